"""Multiple-membership random intercepts, ``(1 | mm(t1 + t2, w1 + w2))`` (issue 20).

* Reference: lme4 with a hand-built multiple-membership Z (lFormula + mkLmerDevfun +
  optimizeLmer), tests/reference/multilevel/make_mm_reference.R -> mm_small_*.json.
* Known truth: the variance components of simulated multiple-membership data are
  recovered within Monte Carlo error (few replications here; 200 in the slow test).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.errors import DataValidationError, ModelSpecificationError

REF = Path(__file__).resolve().parents[1] / "reference" / "multilevel"
MM = "y ~ x + (1 | student) + (1 | mm(t1 + t2, w1 + w2))"


def mm_small() -> pd.DataFrame:
    return pd.read_csv(REF / "mm_small.csv")


@pytest.mark.parametrize("name,reml", [("mm_small_reml", True), ("mm_small_ml", False)])
def test_multiple_membership_matches_lme4_hand_built_z(name: str, reml: bool) -> None:
    ref = json.loads((REF / f"{name}.json").read_text())
    res = pds.lmm(MM, mm_small(), reml=reml)
    assert res.nobs == ref["n"]
    np.testing.assert_allclose(res.theta, ref["theta"], rtol=1e-4)
    np.testing.assert_allclose(res.sigma, ref["sigma"], rtol=1e-4)
    np.testing.assert_allclose(res.loglike, ref["loglik"], rtol=1e-7)
    np.testing.assert_allclose(res.fe["estimate"], ref["fe"]["estimate"], rtol=1e-4)
    np.testing.assert_allclose(res.fe["std_error"], ref["fe"]["std_error"], rtol=1e-4)
    vc = res.varcomp
    np.testing.assert_allclose(vc["estimate"], ref["varcomp"]["vcov"], rtol=1e-4)
    assert vc["group"].tolist() == ["student", "mm(t1+t2)", "Residual"]
    # conditional modes and SDs, matched by (group, level)
    r = res.ranef()
    r["group"] = r["group"].replace({"mm(t1+t2)": "teacher"})
    got = r.set_index(["group", "level"])
    want = pd.DataFrame(ref["ranef"]).set_index(["group", "level"])
    got = got.loc[want.index]
    np.testing.assert_allclose(got["mode"], want["mode"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got["sd"], want["sd"], rtol=1e-4)


def test_single_slot_membership_equals_an_ordinary_term() -> None:
    d = mm_small()
    one = d.assign(w1=1.0, t2=np.nan, w2=np.nan)
    a = pds.lmm("y ~ x + (1 | student) + (1 | mm(t1 + t2, w1 + w2))", one)
    b = pds.lmm("y ~ x + (1 | student) + (1 | t1)", one)
    np.testing.assert_allclose(a.loglike, b.loglike, rtol=1e-9)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-4)
    # a model whose only term is multiple-membership (no block-diagonal first term)
    c = pds.lmm("y ~ x + (1 | mm(t1 + t2, w1 + w2))", one)
    e = pds.lmm("y ~ x + (1 | t1)", one)
    np.testing.assert_allclose(c.loglike, e.loglike, rtol=1e-9)
    np.testing.assert_allclose(c.ranef()["sd"], e.ranef()["sd"], rtol=1e-5)


def test_rows_without_a_member_are_dropped_and_logged() -> None:
    d = mm_small()
    d.loc[[3, 8], ["t1", "t2", "w1", "w2"]] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pds.lmm(MM, d)
    assert res.nobs == len(d) - 2
    assert "no member in mm(t1+t2)" in str(res.sample_log.to_frame())


@pytest.mark.parametrize("change,column", [
    (lambda d: d.assign(w1=np.where(d.t2.notna(), d.w1 + 0.1, d.w1)), "w1+w2"),
    (lambda d: d.assign(w2=np.where(d.t2.notna(), -d.w2, d.w2)), "w2"),
    (lambda d: d.assign(w2=np.where(d.t2.isna(), 0.5, d.w2)), "w2"),
    (lambda d: d.assign(w1=np.where(d.index == 5, np.nan, d.w1)), "w1"),
])
def test_bad_membership_weights_are_refused(change, column) -> None:
    with pytest.raises(DataValidationError) as err:
        pds.lmm(MM, change(mm_small()))
    assert column in str(err.value)


def test_bad_membership_specifications_are_refused() -> None:
    d = mm_small()
    with pytest.raises(ModelSpecificationError, match="intercepts only"):
        pds.lmm("y ~ x + (1 + x | mm(t1 + t2, w1 + w2))", d)
    with pytest.raises(ModelSpecificationError, match="one weight per id"):
        pds.lmm("y ~ x + (1 | mm(t1 + t2, w1))", d)
    with pytest.raises(ModelSpecificationError, match="not in the data"):
        pds.lmm("y ~ x + (1 | mm(t1 + t3, w1 + w2))", d)


def test_unsupported_post_estimation_is_refused_and_supported_works() -> None:
    res = pds.lmm(MM, mm_small())
    for call in (res.predict, lambda: res.resid, lambda: res.cr2(cluster="student"),
                 lambda: res.bootstrap(n_boot=2, progress=False),
                 lambda: res.fixed_effects(ddf="kenward-roger")):
        with pytest.raises(ModelSpecificationError, match="multiple-membership"):
            call()
    fe = res.fixed_effects(ddf="satterthwaite")
    assert np.all(np.isfinite(fe["df"])) and np.all(fe["df"] > 0)
    assert np.isfinite(res.aic)


def simulate_mm(rng: np.random.Generator, n_students: int = 300, n_years: int = 3,
                n_teachers: int = 40, sd_student: float = 0.7, sd_teacher: float = 0.5,
                sd_resid: float = 1.0, mover_share: float = 0.3) -> pd.DataFrame:
    """Students' yearly scores, teachers with mid-year movers (dosage weights)."""
    student = np.repeat(np.arange(n_students), n_years)
    n = student.size
    t1 = rng.integers(0, n_teachers, n)
    mover = rng.random(n) < mover_share
    t2 = np.where(mover, (t1 + rng.integers(1, n_teachers, n)) % n_teachers, -1)
    w1 = np.where(mover, rng.uniform(0.2, 0.8, n), 1.0)
    bt = rng.normal(0, sd_teacher, n_teachers)
    y = (1.0 + 0.3 * (x := rng.normal(size=n)) + rng.normal(0, sd_student, n_students)[student]
         + w1 * bt[t1] + np.where(mover, (1 - w1) * bt[t2], 0.0) + rng.normal(0, sd_resid, n))
    return pd.DataFrame({"y": y, "x": x, "student": student, "t1": t1,
                         "t2": np.where(mover, t2, np.nan), "w1": w1,
                         "w2": np.where(mover, 1 - w1, np.nan)})


def recovery(n_reps: int, seed: int, **kw: float) -> pd.DataFrame:
    truth = {"student": 0.7**2, "mm(t1+t2)": 0.5**2, "Residual": 1.0}
    rng = np.random.default_rng(seed)
    est = []
    for _ in range(n_reps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vc = pds.lmm(MM, simulate_mm(rng, **kw)).varcomp
        est.append(vc.set_index("group")["estimate"])
    est = pd.DataFrame(est)
    out = pd.DataFrame({"truth": pd.Series(truth), "mean": est.mean(),
                        "mc_se": est.std(ddof=1) / np.sqrt(n_reps)})
    out["bias"] = out["mean"] - out["truth"]
    return out


def test_variance_components_recovered_on_simulated_data() -> None:
    tab = recovery(n_reps=25, seed=2026)
    # REML variance estimates are unbiased up to O(1/levels): |bias| < 3.5 MC SE
    assert (tab["bias"].abs() < 3.5 * tab["mc_se"]).all(), tab
    assert (tab["mc_se"] < 0.25 * tab["truth"]).all(), tab


@pytest.mark.slow
def test_variance_components_recovered_200_replications() -> None:
    tab = recovery(n_reps=200, seed=20, n_students=600, n_teachers=80)
    assert (tab["bias"].abs() < 3 * tab["mc_se"]).all(), tab
