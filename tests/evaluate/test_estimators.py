"""TWFE vs R (lm + clubSandwich/sandwich), Bacon vs its definition, Sun-Abraham vs a
saturated regression, imputation vs Gardner's two-stage estimator, randomization and
wild-bootstrap inference. Every reference is computed here from first principles or in R."""

import json
import pathlib

import numpy as np
import pandas as pd
import pytest
from contract.checks import assert_contract

import pdstats as pds

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"TWFEResult", "EventStudyResult", "BaconResult"}

HERE = pathlib.Path(__file__).parents[1] / "reference" / "evaluate"
R = json.loads((HERE / "twfe_reference.json").read_text())


@pytest.fixture(scope="module")
def panel():
    return pd.read_csv(HERE / "twfe_panel.csv")


@pytest.mark.parametrize("cluster", ["id", "state"])
def test_twfe_matches_r(panel, cluster):
    ref = R[f"by_{cluster}"]
    r2 = pds.evaluate.twfe(panel, "y", "d", "id", "year", cluster=cluster)
    row = r2.estimates.iloc[0]
    assert row["term"] == "d"
    assert row["estimate"] == pytest.approx(ref["estimate"], abs=1e-8)
    assert row["std_error"] == pytest.approx(ref["se_cr2"], abs=1e-8)
    assert row["df"] == pytest.approx(ref["df_cr2"], abs=1e-6)
    assert row["p_value"] == pytest.approx(ref["p_cr2"], abs=1e-8)
    r1 = pds.evaluate.twfe(panel, "y", "d", "id", "year", cluster=cluster, vcov="CR1")
    assert r1.estimates["std_error"].iloc[0] == pytest.approx(ref["se_cr1"], abs=1e-8)
    assert_contract(r2)


def test_twfe_wild_bootstrap_few_clusters(panel):
    wb = pds.evaluate.twfe(panel, "y", "d", "id", "year", cluster="state").wild_bootstrap(
        weights="webb", n_boot=999, random_state=1, progress=False)
    assert 0 < wb.p_value < 0.2
    assert wb.estimates["ci_lower"].iloc[0] < R["by_state"]["estimate"] < wb.estimates["ci_upper"].iloc[0]


def _bacon_direct(d):
    """Goodman-Bacon (2021, eqs. 10a-10g): 2x2 DiDs and weights from their definitions."""
    T = np.sort(d.year.unique())
    units = d.drop_duplicates("id")
    n = units.groupby("g").size() / len(units)
    share = {g: np.mean(T >= g) if g > 0 else 0.0 for g in n.index}  # D-bar
    ybar = d.groupby(["g", "year"]).y.mean().unstack()

    def did(k, ctrl, pre, post):
        dk = ybar.loc[k, post].mean() - ybar.loc[k, pre].mean()
        dc = ybar.loc[ctrl, post].mean() - ybar.loc[ctrl, pre].mean()
        return dk - dc

    rows = []
    treated = [g for g in n.index if g > 0]
    for k in treated:
        if 0 in n.index:
            nku = n[k] / (n[k] + n[0])
            w = (n[k] + n[0]) ** 2 * nku * (1 - nku) * share[k] * (1 - share[k])
            rows.append((k, 0, did(k, 0, T[T < k], T[T >= k]), w))
        for ll in treated:
            if ll <= k:
                continue
            nkl = n[k] / (n[k] + n[ll])
            dk, dl = share[k], share[ll]
            w_kl = ((n[k] + n[ll]) * (1 - dl)) ** 2 * nkl * (1 - nkl) * (dk - dl) / (1 - dl) * (1 - dk) / (1 - dl)
            rows.append((k, ll, did(k, ll, T[T < k], T[(T >= k) & (T < ll)]), w_kl))
            w_lk = ((n[k] + n[ll]) * dk) ** 2 * nkl * (1 - nkl) * dl / dk * (dk - dl) / dk
            rows.append((ll, k, did(ll, k, T[(T >= k) & (T < ll)], T[T >= ll]), w_lk))
    out = pd.DataFrame(rows, columns=["treated", "control", "estimate", "weight"])
    out["weight"] /= out["weight"].sum()
    return out


def test_bacon_components(panel):
    b = pds.evaluate.bacon(panel, "y", "id", "year", "g")
    tw = pds.evaluate.twfe(panel, "y", "d", "id", "year").estimates["estimate"].iloc[0]
    total = float((b.estimates["weight"] * b.estimates["estimate"]).sum())
    assert total == pytest.approx(tw, abs=1e-10)
    assert b.twfe == pytest.approx(tw, abs=1e-10)
    direct = _bacon_direct(panel)
    got = b.estimates.astype({"treated": int, "control": int}).merge(
        direct, on=["treated", "control"], suffixes=("", "_d"))
    assert len(got) == len(direct) == len(b.estimates)
    np.testing.assert_allclose(got["estimate"], got["estimate_d"], atol=1e-10)
    np.testing.assert_allclose(got["weight"], got["weight_d"], atol=1e-10)
    assert_contract(b)


def _dummies(d):
    return pd.get_dummies(d["id"], prefix="u", drop_first=True, dtype=float).join(
        pd.get_dummies(d["year"], prefix="t", drop_first=True, dtype=float))


def test_sun_abraham_is_iw_of_saturated_regression(panel):
    es = pds.evaluate.sun_abraham(panel, "y", "id", "year", "g")
    d = panel.copy()
    d["e"] = np.where(d.g > 0, d.year - d.g, -999)
    cells = sorted({(g, e) for g, e in zip(d.g, d.e, strict=False) if g > 0 and e != -1})
    X = _dummies(d)
    for g, e in cells:
        X[f"c{g}_{e}"] = ((d.g == g) & (d.e == e)).astype(float)
    X.insert(0, "const", 1.0)
    beta = pd.Series(np.linalg.lstsq(X.to_numpy(), d.y.to_numpy(), rcond=None)[0], index=X.columns)
    size = d.drop_duplicates("id").groupby("g").size()
    for e, est in zip(es.estimates["event_time"], es.estimates["estimate"], strict=False):
        gs = [g for g, ee in cells if ee == e]
        w = size[gs] / size[gs].sum()
        iw = sum(w[g] * beta[f"c{g}_{e}"] for g in gs)
        assert est == pytest.approx(iw, abs=1e-8)
    assert_contract(es)


def test_imputation_equals_gardner_two_stage(panel):
    es = pds.evaluate.imputation(panel, "y", "id", "year", "g")
    d = panel.copy()
    X = _dummies(d)
    X.insert(0, "const", 1.0)
    untreated = d["d"].to_numpy() == 0
    gamma = np.linalg.lstsq(X.to_numpy()[untreated], d.y.to_numpy()[untreated], rcond=None)[0]
    d["r"] = d.y - X.to_numpy() @ gamma  # stage 1: residualize on FE fitted to D = 0
    post = d[d["d"] == 1].copy()
    post["e"] = post.year - post.g
    E = pd.get_dummies(post["e"], dtype=float)  # stage 2: event-time dummies
    b2 = np.linalg.lstsq(E.to_numpy(), post["r"].to_numpy(), rcond=None)[0]
    gardner = pd.Series(b2, index=E.columns.astype(int))
    got = es.estimates.set_index("event_time")["estimate"]
    np.testing.assert_allclose(got.loc[gardner.index].to_numpy(), gardner.to_numpy(), atol=1e-10)
    overall = np.linalg.lstsq(np.ones((len(post), 1)), post["r"].to_numpy(), rcond=None)[0][0]
    assert es.overall["estimate"].iloc[0] == pytest.approx(overall, abs=1e-10)


def test_randomization_over_adoption_timing(panel):
    def att(x):
        return pds.evaluate.staggered_did(x, "y", "id", "year", "g", n_boot=0).aggregate(
            "simple").overall["estimate"].iloc[0]

    ri = pds.evaluate.randomization_test(att, panel, "id", "g", block="state", n_perm=19,
                                         random_state=3, progress=False)
    assert ri.estimates["estimate"].iloc[0] == pytest.approx(att(panel))
    assert ri.p_value <= 0.1  # effect ~1.5 SD of the permutation distribution or more
    # under the null (outcome unrelated to adoption) the p-value is not small
    null = panel.assign(y=np.random.default_rng(0).normal(size=len(panel)))
    ri0 = pds.evaluate.randomization_test(att, null, "id", "g", n_perm=19, random_state=3,
                                          progress=False)
    assert ri0.p_value > 0.1


def test_twfe_randomization_over_adoption_timing(panel):
    tw = pds.evaluate.twfe(panel, "y", "d", "id", "year")
    ri = tw.randomization_test(n_perm=499, block="state", random_state=2, progress=False)
    assert ri.estimates["term"].iloc[0] == "d"
    assert ri.estimates["estimate"].iloc[0] == pytest.approx(R["by_id"]["estimate"], abs=1e-10)
    assert ri.p_value < 0.05
