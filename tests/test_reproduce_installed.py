"""`pdstats reproduce` from an installed wheel runs the same study as from a checkout.

The wheel is built with ``pip wheel --no-deps`` and unpacked into a temporary folder that
is put first on ``PYTHONPATH`` (an install without the checkout: the dependencies come from
the running environment); everything runs from a temporary working directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import pdstats as pds
from pdstats.cli import REPO_ROOT, main, study_notebooks


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The pdstats wheel of this checkout, unpacked into a site folder."""
    build = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(build), str(REPO_ROOT)],
                   check=True, capture_output=True, cwd=build)  # fmt: skip
    (wheel,) = build.glob("pdstats-*.whl")
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    return site


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("PDSTATS_OUTPUT", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)


def _run_json(site: Path, cwd: Path, code: str) -> dict:
    """Run ``code`` (printing one JSON object) with the installed wheel; return that object."""
    res = _run(site, cwd, "-c", code)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_installed_wheel_finds_every_notebook_and_the_paper(installed: Path, tmp_path: Path) -> None:
    code = (
        "import json, pdstats, pdstats.cli as c\n"
        "print(json.dumps({'pkg': pdstats.__file__, 'notebooks': [p.name for p in c.study_notebooks()],\n"
        "  'paper': [str(p) for p in c.paper_files()],\n"
        "  'refs': sorted(p.name for p in (c.PACKAGE_DIR / 'multilevel' / 'data').iterdir())}))\n"
    )
    got = _run_json(installed, tmp_path, code)
    assert Path(got["pkg"]).is_relative_to(installed), "the checkout was imported, not the wheel"
    assert got["notebooks"] == [p.name for p in study_notebooks()]
    assert all(Path(p).is_relative_to(installed) for p in got["paper"])
    for name in ("manuscript.md", "make_numbers.py"):
        assert (installed / "pdstats" / "paper" / name).read_bytes() == (REPO_ROOT / "paper" / name).read_bytes()
    for nb in study_notebooks():
        assert (installed / "pdstats" / "notebooks" / nb.name).read_bytes() == nb.read_bytes()
    assert {"egsingle_uncond_reml.json", "egsingle_cond_ml.json", "egsingle_lrt.json"} <= set(got["refs"])


def test_installed_wheel_serves_the_notebooks_reference_values(installed: Path, tmp_path: Path) -> None:
    """Notebooks 01 and 03 read their R reference values through the package, as here."""
    code = (
        "import json\n"
        "from importlib.resources import files\n"
        "import pandas as pd\n"
        "ref = json.loads((files('pdstats.multilevel') / 'data' / 'egsingle_lrt.json').read_text())\n"
        "items = pd.read_csv(files('pdstats.practices') / 'data' / 'erm_lsat6_items.csv')\n"
        "print(json.dumps({'chisq': ref['chisq'], 'n_items': len(items), 'where': str(files('pdstats'))}))\n"
    )
    got = _run_json(installed, tmp_path, code)
    repo_ref = json.loads((REPO_ROOT / "tests" / "reference" / "multilevel" / "egsingle_lrt.json").read_text())
    assert got["chisq"] == repo_ref["chisq"] and got["n_items"] == 5
    assert Path(got["where"]).is_relative_to(installed)


def test_reproduce_fails_loudly_when_a_notebook_is_missing(tmp_path, monkeypatch, capsys) -> None:
    partial = tmp_path / "notebooks"
    shutil.copytree(REPO_ROOT / "notebooks", partial)
    (partial / "03_multilevel_growth.ipynb").unlink()
    monkeypatch.setattr("pdstats.cli.notebooks_dir", lambda: partial)
    assert main(["reproduce", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr()
    assert "03_multilevel_growth.ipynb" in err.err and "finished" not in err.out
    assert not (tmp_path / "out").exists()  # it stopped before building anything
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(pds.PdstatsError, match="no numbered notebook"):
        study_notebooks(empty)


def test_reproduce_fails_loudly_without_the_paper_template(tmp_path, monkeypatch, capsys) -> None:
    paper = tmp_path / "paper"
    paper.mkdir()
    shutil.copy(REPO_ROOT / "paper" / "make_numbers.py", paper)
    monkeypatch.setattr("pdstats.cli.paper_dir", lambda: paper)
    assert main(["reproduce", "--out", str(tmp_path / "out")]) == 1
    assert "manuscript.md" in capsys.readouterr().err


@pytest.mark.slow
def test_installed_wheel_reproduces_the_whole_study(installed: Path, tmp_path: Path) -> None:
    res = _run(installed, tmp_path, "-m", "pdstats.cli", "reproduce", "--out", "out")
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "notebooks").glob("*.ipynb")) == [p.name for p in study_notebooks()]
    manuscript = (out / "paper" / "manuscript.md").read_text(encoding="utf-8")
    assert "{{" not in manuscript
    assert "finished" in res.stdout
    assert (out / "disclosure" / "disclosure_report.csv").is_file() and (out / "tables").is_dir()
    found = pds.privacy.scan_outputs(out)
    assert found.empty and len(found.attrs["scanned"]) >= 20, found.to_string()
