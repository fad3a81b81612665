"""link_to_naep, interpolate_naep and standardize: formulas, interpolation, errors, known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pdstats as pds

NAEP = pd.DataFrame({
    "state": ["CA"] * 4 + ["national"] * 4,
    "year": [2003, 2003, 2005, 2005] * 2,
    "grade": [4, 8, 4, 8] * 2,
    "subject": "math",
    "mean": [227.0, 267.0, 230.0, 269.0, 234.0, 276.0, 237.0, 278.0],
    "sd": [30.0, 38.0, 31.0, 39.0, 29.0, 37.0, 29.0, 37.0],
    "mean_se": [1.0, 1.2, 0.8, 1.0, 0.2, 0.2, 0.2, 0.2],
    "sd_se": [0.5, 0.6, 0.5, 0.6, 0.1, 0.1, 0.1, 0.1],
})


def _est(grade=4, year=2005, **kw):
    base = {"unit_id": ["a", "b"], "state": "CA", "year": year, "grade": grade, "subject": "math",
            "n": [100, 80], "mean": [0.5, -0.2], "se_mean": [0.05, 0.06], "sd": [0.9, 1.0],
            "se_sd": [0.04, 0.05]}
    base.update(kw)
    return pd.DataFrame(base)


def test_linked_values_follow_the_documented_formulas():
    r, le = 0.85, 0.1
    out = pds.harmonize.link_to_naep(_est(), NAEP, reliability=r, linking_error=le).scale("naep")
    m, s = 230.0, 31.0
    np.testing.assert_allclose(out["mean"], m + s * np.array([0.5, -0.2]) / np.sqrt(r))
    np.testing.assert_allclose(out["sd"], s * np.sqrt((np.array([0.9, 1.0]) ** 2 + r - 1) / r))
    se_est = s * np.array([0.05, 0.06]) / np.sqrt(r)
    se_naep = np.sqrt(0.8**2 + np.array([0.5, -0.2]) ** 2 / r * 0.5**2)
    np.testing.assert_allclose(out["se_estimation"], se_est)
    np.testing.assert_allclose(out["se_naep"], se_naep)
    np.testing.assert_allclose(out["se_linking"], le * s)
    np.testing.assert_allclose(out["se_mean"], np.sqrt(se_est**2 + se_naep**2 + (le * s) ** 2))
    assert (out["mean_lower"] < out["mean"]).all()


def test_interpolation_across_grades_and_years():
    v = pds.harmonize.interpolate_naep(NAEP, "CA", 2004, 6, "math")
    assert v["interpolated"]
    assert v["mean"] == pytest.approx(np.mean([227, 267, 230, 269]))
    # SE of the average of four independent published means
    assert v["mean_se"] == pytest.approx(np.sqrt(np.sum(np.array([1.0, 1.2, 0.8, 1.0]) ** 2)) / 4)
    v3 = pds.harmonize.interpolate_naep(NAEP, "CA", 2005, 3, "math")
    assert v3["mean"] == pytest.approx(230 - (269 - 230) / 4)  # grade 3 extrapolated
    exact = pds.harmonize.interpolate_naep(NAEP, "CA", 2005, 8, "math")
    assert not exact["interpolated"] and exact["mean"] == 269
    later = pds.harmonize.interpolate_naep(NAEP, "CA", 2009, 4, "math")
    assert later["interpolated"] and later["mean"] == 230  # held at the nearest year


def test_other_scales_are_relative_to_the_national_reference():
    est = _est(mean=[0.0, 0.0])
    naep = NAEP.copy()
    naep.loc[naep.state == "CA", "mean"] = naep.loc[naep.state == "national", "mean"].to_numpy()
    out = pds.harmonize.link_to_naep(est, naep, reference_years=[2005])
    cs = out.scale("cohort_standardized")
    ge = out.scale("grade_equivalent")
    np.testing.assert_allclose(cs["mean"], 0.0, atol=1e-12)
    np.testing.assert_allclose(ge["mean"], 4.0)
    out8 = pds.harmonize.link_to_naep(_est(grade=8, mean=[0.0, 0.0]), naep, reference_years=[2005])
    np.testing.assert_allclose(out8.scale("grade_equivalent")["mean"], 8.0)
    assert out.plot().get_xlabel().startswith("estimate")
    assert "Reliability" in out.summary()


def test_missing_naep_is_logged_and_missing_sd_raises():
    est = pd.concat([_est(), _est().assign(state="MA")])
    out = pds.harmonize.link_to_naep(est, NAEP)
    assert out.sample_log.dropped == {"no NAEP values for MA grade 4 math": 2}
    bad = NAEP.copy()
    bad.loc[0, "sd"] = np.nan
    with pytest.raises(pds.ModelSpecificationError, match="column 'sd'"):
        pds.harmonize.link_to_naep(_est(year=2003), bad)
    with pytest.raises(pds.ModelSpecificationError, match="reliability"):
        pds.harmonize.link_to_naep(_est(), NAEP, reliability=1.5)


def _two_state_world(seed: int, reliability: float = 0.85):
    """Students on a NAEP-like scale; each state's test is a linear transform plus error.

    The truth is each district's population mean (the estimand of the HETOP standard errors,
    which include student sampling error), not the mean of the students drawn.
    """
    rng = np.random.default_rng(seed)
    rows, truth, naep = [], [], []
    for state, (m, s, loc, spread) in {"CA": (230.0, 31.0, 350.0, 50.0),
                                         "MA": (247.0, 28.0, 240.0, 15.0)}.items():
        units = rng.normal(0, 0.45 * s, 40)
        x_all, t_all = [], []
        for i, u in enumerate(units):
            n = int(rng.integers(80, 300))
            true = m + u + rng.normal(0, np.sqrt(1 - 0.45**2) * s * 0.95, n)
            obs_z = (true - m) / s + rng.normal(0, np.sqrt((1 - reliability) / reliability), n)
            x_all.append((f"{state}{i:03d}", loc + spread * obs_z))
            t_all.append((f"{state}{i:03d}", true, m + u))
        xs = np.concatenate([x for _, x in x_all])
        cuts = np.quantile(xs, [0.25, 0.55, 0.85])
        for (uid, x), (_, _, pop_mean) in zip(x_all, t_all, strict=True):
            c = np.bincount(np.searchsorted(cuts, x), minlength=4)
            rows.append({"unit_id": uid, "state": state, **{f"level_{k + 1}": c[k] for k in range(4)}})
            truth.append({"unit_id": uid, "true_mean": pop_mean})  # the district's population mean
        tt = np.concatenate([t for _, t, _ in t_all])
        for g in (4, 8):
            naep.append({"state": state, "year": 2005, "grade": g, "subject": "math",
                         "mean": tt.mean(), "sd": tt.std(), "mean_se": 0.0, "sd_se": 0.0})
    counts = pd.DataFrame(rows).assign(year=2005, grade=4, subject="math")
    return counts, pd.DataFrame(truth), pd.DataFrame(naep)


def test_hetop_then_link_recovers_naep_scale_district_means():
    errs, cover = [], []
    for seed in range(4):
        counts, truth, naep = _two_state_world(seed)
        fit = pds.harmonize.hetop(counts, progress=False)
        linked = pds.harmonize.link_to_naep(fit, naep, reliability=0.85).scale("naep")
        m = linked.merge(truth, on="unit_id")
        errs.append(m["mean"] - m["true_mean"])
        cover.append((m["mean"] - m["true_mean"]).abs() <= 1.96 * m["se_mean"])
    err = pd.concat(errs)
    assert abs(err.mean()) < 1.0  # NAEP points
    assert np.sqrt((err**2).mean()) < 4.0
    assert 0.88 <= pd.concat(cover).mean() <= 0.99
    # without the reliability adjustment the linked means are pulled toward the state mean
    counts, truth, naep = _two_state_world(0)
    fit = pds.harmonize.hetop(counts, progress=False)
    plain = pds.harmonize.link_to_naep(fit, naep).scale("naep").merge(truth, on="unit_id")
    adj = pds.harmonize.link_to_naep(fit, naep, reliability=0.85).scale("naep").merge(truth, on="unit_id")
    slope = lambda d: np.polyfit(d["true_mean"], d["mean"], 1)[0]  # noqa: E731
    assert slope(plain) < slope(adj)
    assert abs(slope(adj) - 1) < abs(slope(plain) - 1)


def test_standardize_sd_sources():
    d = pd.DataFrame({"state": "MA", "year": 1998, "grade": 4, "subject": "math",
                      "unit_id": list("abcd"), "score": [700.0, 710.0, 720.0, np.nan],
                      "sd_within": [20.0, 25.0, 22.0, 21.0], "n": [50, 80, 60, 40]})
    star = pds.harmonize.standardize(d, "score", weight="n", within_sd="sd_within", n="n")
    ok = star.dropna(subset=["mean"])
    w = ok["n"] / ok["n"].sum()
    assert float(w @ ok["mean"]) == pytest.approx(0.0, abs=1e-12)
    assert float(w @ (ok["mean"] ** 2 + ok["sd"] ** 2)) == pytest.approx(1.0)
    assert np.isnan(star.loc[3, "mean"]) and len(star) == 4  # kept, not dropped
    assert (star["scale"] == "star").all() and ok["se_mean"].gt(0).all()
    z = pds.harmonize.standardize(d, "score")
    assert (z["scale"] == "z_between").all() and "SD of unit means" in z["sd_source"].iloc[0]
    with pytest.raises(pds.ModelSpecificationError, match="icc"):
        pds.harmonize.standardize(d, "score", icc=0.0)
