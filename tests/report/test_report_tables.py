"""pds.report.table: results of any family side by side; every shared output passes release()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.report import release, save_figure, table


@pytest.fixture(scope="module")
def fits() -> dict[str, object]:
    rng = np.random.default_rng(17)
    df = pd.DataFrame({"x": rng.normal(size=120), "g": np.repeat(np.arange(12), 10)})
    df["y"] = 1 + 0.5 * df["x"] + rng.normal(size=120)
    df.loc[3, "y"] = np.nan
    wide = df.assign(w=rng.normal(size=120))
    with pytest.warns(pds.DroppedRowsWarning):
        ols = pds.ols("y ~ x", df, cluster="g")
        ols2 = pds.ols("y ~ x + w", wide, cluster="g")
    ratings = pds.practices.reconstruct_year1(random_state=0)["practice_ratings"]
    agree = pds.practices.agreement(ratings, n_boot=20, random_state=0, progress=False)
    return {"slope": ols, "with w": ols2, "agreement": agree}


def test_cells_are_the_results_estimates(fits: dict) -> None:
    t = table({"slope": fits["slope"], "with w": fits["with w"]}, digits=4)
    est = fits["with w"].estimates.set_index("term")
    assert t.grid.loc[("w", "estimate"), "with w"] == f"{est.loc['w', 'estimate']:.4f}"
    assert t.grid.loc[("w", "std_error"), "with w"] == f"({est.loc['w', 'std_error']:.4f})"
    assert t.grid.loc[("w", "estimate"), "slope"] == ""  # not in that model
    assert t.grid.loc[("N", "n_used"), "slope"] == f"{fits['slope'].sample_log.n_used:,}"
    assert fits["slope"].sample_log.n_used == 119  # the missing outcome was dropped
    ci = table([fits["slope"]], stat="ci", terms=["x"], digits=2)
    e = fits["slope"].estimates.set_index("term").loc["x"]
    assert ci.grid.loc[("x", "ci"), "(1)"] == f"[{e['ci_lower']:.2f}, {e['ci_upper']:.2f}]"
    assert list(ci.grid.index.get_level_values("term").unique()) == ["x", "N", "Unit"]


def test_families_mix_and_formats_render(fits: dict) -> None:
    t = table(fits, title="Mixed & matched_1")
    md, page, tex = t.to_markdown(), t.to_html(), t.to_latex()
    assert md.splitlines()[2] == "|  | slope | with w | agreement |"
    assert len({len(line.split("|")) for line in md.splitlines() if line.startswith("|")}) == 1
    assert page.count("<tr") == len(t.grid) + 2  # head and foot rows and "Mixed &amp; matched_1" in page
    assert r"Mixed \& matched\_1" in tex and tex.count("\\\\") == len(t.grid) + 1
    assert set(t.data["model"]) == {"slope", "with w", "agreement"}


def test_bad_input_is_refused(fits: dict) -> None:
    with pytest.raises(pds.PdstatsError, match="not a pdstats result"):
        table([pd.DataFrame({"estimate": [1.0]})])
    with pytest.raises(pds.PdstatsError, match="in none of the results"):
        table([fits["slope"]], terms=["nope"])
    with pytest.raises(pds.PdstatsError, match="stat must be"):
        table([fits["slope"]], stat="t")
    with pytest.raises(pds.PdstatsError, match="at least one"):
        table([])


def test_write_passes_the_gate(fits: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = table([fits["slope"]])
    paths = t.write("slopes", out=tmp_path)
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        "slopes.csv", "slopes.html", "slopes.md", "slopes.tex"]
    assert paths["md"].read_text(encoding="utf-8") == t.to_markdown()
    seen = []

    def refusing(frame: pd.DataFrame, name: str, count_columns: tuple = ()) -> pd.DataFrame:
        seen.append(name)
        raise pds.PrivacyError(f"{name} refused")

    monkeypatch.setattr("pdstats.report.tables.release", refusing)
    monkeypatch.setattr("pdstats.report.output.release", refusing)
    with pytest.raises(pds.PrivacyError):
        t.write("second", out=tmp_path)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    with pytest.raises(pds.PrivacyError):
        save_figure(ax, "fig_data", data=pd.DataFrame({"x": [1]}), out=tmp_path)
    plt.close(fig)
    assert seen == ["second", "fig_data"]
    assert not list(tmp_path.rglob("second.*")) and not list(tmp_path.rglob("fig_data.*"))


def test_release_refuses_student_rows_and_small_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(pds.PrivacyError, match="student_id"):
        release(pd.DataFrame({"student_id": ["s1"], "score": [1.0]}), "scores")
    monkeypatch.setenv("PDSTATS_SUPPRESSION_THRESHOLD", "20")
    with pytest.raises(pds.PrivacyError, match="below 20"):
        release(pd.DataFrame({"state": ["CA"], "n": [15]}), "counts", ["n"])
    monkeypatch.setenv("PDSTATS_SUPPRESSION_THRESHOLD", "10")
    assert len(release(pd.DataFrame({"state": ["CA"], "n": [15]}), "counts", ["n"])) == 1
    with pytest.raises(pds.PdstatsError, match="lower_case"):
        release(pd.DataFrame({"a": [1]}), "Bad Name")
