"""The paper: numbers, tables, figures and missing sections filled; self-contained HTML."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.report import record_numbers, save_figure, table
from pdstats.report.paper import build_paper

TEMPLATE = """# A study

Slope {{fit.slope}} on {{fit.n}} rows.

<!-- if growth -->Growth {{growth.mean}}.<!-- endif -->

<!-- if missing_one -->Never shown {{missing_one.x}}.<!-- endif -->

{{table:fits}}

{{figure:scatter|A scatter}}
"""


def test_build_paper(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"x": rng.normal(size=40), "g": np.arange(40) % 8})
    df["y"] = df["x"] + rng.normal(size=40)
    fit = pds.ols("y ~ x", df, cluster="g")
    table([fit]).write("fits", out=tmp_path)
    fig, ax = plt.subplots()
    ax.scatter(df["x"], df["y"])
    save_figure(fig, "scatter", data=df[["x", "y"]], out=tmp_path)
    plt.close(fig)
    record_numbers("fit", {"slope": float(fit.estimates.set_index("term").loc["x", "estimate"]), "n": 40}, out=tmp_path)
    record_numbers("missing_one", {"missing": "student_scores has no rows"}, out=tmp_path)
    template = tmp_path / "manuscript.md"
    template.write_text(TEMPLATE, encoding="utf-8")
    paths = build_paper(template, out=tmp_path)
    md = paths["markdown"].read_text(encoding="utf-8")
    slope = fit.estimates.set_index("term").loc["x", "estimate"]
    assert f"Slope {slope:.3f} on 40 rows." in md
    assert "Not available for this study: section growth was not run." in md
    assert "Not available for this study: student_scores has no rows." in md and "Never shown" not in md
    assert "| x |" in md and "![A scatter](../figures/scatter.png)" in md
    page = paths["html"].read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 1 and "../figures" not in page
    assert "<table>" in page and "<h1>A study</h1>" in page
    assert json.loads(paths["numbers"].read_text())["fit"]["n"] == 40


def test_missing_outputs_stop_the_paper(tmp_path: Path) -> None:
    template = tmp_path / "manuscript.md"
    template.write_text("{{table:absent}}", encoding="utf-8")
    with pytest.raises(pds.ReproduceError, match="table 'absent'"):
        build_paper(template, out=tmp_path)
    template.write_text("{{figure:absent}}", encoding="utf-8")
    with pytest.raises(pds.ReproduceError, match="figure 'absent'"):
        build_paper(template, out=tmp_path)
    template.write_text("{{nowhere.x}}", encoding="utf-8")
    with pytest.raises(pds.PdstatsError, match="no notebook recorded it"):
        build_paper(template, out=tmp_path)
