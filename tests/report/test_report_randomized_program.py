"""The year-3 report's randomized-program estimator on a store (pdstats.report.study)."""

from __future__ import annotations

import warnings

import numpy as np

import pdstats as pds
from pdstats.report.study import evaluate_program, open_study


def test_randomized_teacher_bonus_from_a_store(tmp_path):
    path = tmp_path / "s.duckdb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pds.simulate.study(random_state=9175, progress=False, n_states=2, n_districts=8,
                           n_comparison=2).to_study(path, overwrite=True).close()
        store, cfg = open_study(path)
        out = evaluate_program(store, "teacher_bonus", cfg)
    arms = store.read("program_adoption", program="teacher_bonus")
    assert out["_n_units"] == len(arms)
    (res,) = [v for k, v in out.items() if not k.startswith("_")]
    row = res.estimates.iloc[0]
    assert np.isfinite(row["std_error"]) and row["std_error"] > 0
    assert row["ci_lower"] < row["estimate"] < row["ci_upper"]
    log = res.sample_log
    # every student of a randomized teacher is used or dropped with a reason
    en = store.read("enrollments", year=int(arms["first_treated_year"].min()), subject=cfg.subjects[0])
    assert log.n_in == en.loc[en["teacher_id"].isin(arms["unit_id"]), "student_id"].nunique()
    assert log.n_used + log.n_dropped == log.n_in and log.n_used > 0
