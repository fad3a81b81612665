"""Regenerate tests/reference/evaluate/honestdid_readme.json: the sensitivity tables
printed in the README of the HonestDiD R package (asheshrambachan/HonestDiD, commit
cc8cf885ded3af975bced52f1e1d4a388eaadb16, section "Example usage - Medicaid
expansions": ``delta_rm_results`` (relative magnitudes, Mbar = 0.5, 1, 1.5, 2) and
``delta_sd_results`` (smoothness, M = 0, 0.01, ..., 0.05)), for the event study whose
coefficients ``make_ehec_event_study.py`` re-estimates.

The README is R Markdown output, so its tables are the numbers R printed (3 significant
digits). This script downloads the README at that commit and parses the two tibbles
(network needed); it does not run any pdstats or moderndid code.

Run: python tests/reference/evaluate/make_honestdid_readme.py
"""

import json
import pathlib
import re
import urllib.request

COMMIT = "cc8cf885ded3af975bced52f1e1d4a388eaadb16"
URL = f"https://raw.githubusercontent.com/asheshrambachan/HonestDiD/{COMMIT}/README.md"


def tibble_after(text: str, marker: str, delta: str) -> list[list[float]]:
    """Rows (m, lb, ub) of the first printed tibble after ``marker``."""
    start = text.index(marker)
    rows = []
    for line in text[start:].splitlines():
        m = re.match(rf"\s*## \d+\s+(\S+)\s+(\S+)\s+\S+\s+{delta}\s+(\S+)", line)
        if m:
            lb, ub, par = (float(v) for v in m.groups())
            rows.append([par, lb, ub])
        elif rows:
            break
    return rows


text = urllib.request.urlopen(URL, timeout=60).read().decode()
out = {
    "source": f"README.md of asheshrambachan/HonestDiD@{COMMIT}, 'Example usage - Medicaid "
              "expansions' (printed R output, 3 significant digits)",
    "relative_magnitudes": tibble_after(text, "delta_rm_results\n```", "DeltaRM"),
    "smoothness": tibble_after(text, "delta_sd_results\n```", "DeltaSD"),
    "columns": ["m", "lb", "ub"],
}
path = pathlib.Path(__file__).with_name("honestdid_readme.json")
path.write_text(json.dumps(out, indent=1))
print(out)
