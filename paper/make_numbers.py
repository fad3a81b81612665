"""Fill the manuscript's placeholders with the numbers the notebooks recorded.

Run by ``make reproduce`` after the notebooks: reads ``$PDSTATS_OUTPUT/numbers/*.json``,
writes ``$PDSTATS_OUTPUT/paper/numbers.json`` (all numbers) and
``$PDSTATS_OUTPUT/paper/manuscript.md`` (``paper/manuscript.md`` with every
``{{section.name}}`` replaced). A placeholder no notebook recorded stops the build.
"""

from __future__ import annotations

import json
from pathlib import Path

from pdstats.reporting import collect_numbers, fill_placeholders, output_dir


def main() -> None:
    out = output_dir()
    numbers = collect_numbers(out)
    target = out / "paper"
    target.mkdir(parents=True, exist_ok=True)
    (target / "numbers.json").write_text(json.dumps(numbers, indent=2, sort_keys=True), encoding="utf-8")
    template = (Path(__file__).parent / "manuscript.md").read_text(encoding="utf-8")
    (target / "manuscript.md").write_text(fill_placeholders(template, numbers), encoding="utf-8")
    print(f"[paper] {sum(len(v) for v in numbers.values())} numbers from {len(numbers)} sections -> {target}")


if __name__ == "__main__":
    main()
