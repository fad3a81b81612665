"""Agreement and reliability on published and hand-computed examples, and R's psych."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.data.datasets import load_rdataset
from pdstats.practices import cronbach_alpha, fleiss_kappa, krippendorff_alpha, omega_total

REF = Path(__file__).resolve().parents[1] / "reference" / "practices"
NA = np.nan
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", reliability data with
# 4 observers and 12 units; published alphas: nominal .743, ordinal .815, interval .849, ratio .797
KRIPP = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, 3],
    [NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NA],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA],
]).T


@pytest.mark.parametrize("level,expected", [("nominal", 0.743), ("ordinal", 0.815),
                                            ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_published_example(level, expected):
    assert krippendorff_alpha(KRIPP, level) == pytest.approx(expected, abs=5e-4)


def test_krippendorff_hand_example():
    # 3 units, 2 coders, nominal: o = pairs (1,1),(1,2),(2,1),(2,2)... computed by hand:
    # units (1,1), (1,2), (2,2): coincidences o11=2, o12=o21=1, o22=2; n1=n2=3, n=6
    # D_o = 2 ; D_e = 2*3*3/5 = 3.6 ; alpha = 1 - 2/3.6
    x = np.array([[1, 1], [1, 2], [2, 2]], float)
    assert krippendorff_alpha(x, "nominal") == pytest.approx(1 - 2 / 3.6)


def test_fleiss_kappa_published_example():
    # Fleiss (1971) style example reproduced in many texts: 10 subjects, 14 raters -> 0.210
    t = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                  [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                  [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert fleiss_kappa(t)[0] == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_hand_example():
    # 3 subjects x 2 raters: P_i = 1, 1, 0 -> Pbar = 2/3; p = (.5, .5) -> Pe = .5; kappa = 1/3
    k, se = fleiss_kappa(np.array([[2, 0], [0, 2], [1, 1]]))
    assert k == pytest.approx(1 / 3)
    assert se > 0
    with pytest.raises(ValueError):
        fleiss_kappa(np.array([[2, 0], [1, 2]]))


def test_alpha_hand_example():
    # item variances (ddof 1): 1/3, 1/4, 1/4 -> 5/6; total scores 3,2,1,0 -> var 5/3
    x = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    a, lo, hi = cronbach_alpha(x)
    assert a == pytest.approx(1.5 * (1 - (5 / 6) / (5 / 3)))  # = 0.75
    assert lo < a < hi


@pytest.mark.parametrize("name", ["counts", "sim_pcm"])
def test_alpha_and_omega_match_psych(name):
    ref = pd.read_csv(REF / "psych_reliability.csv").set_index("data")
    x = pd.read_csv(REF / f"input_{name}.csv").to_numpy()
    assert cronbach_alpha(x)[0] == pytest.approx(ref.loc[name, "alpha"], abs=1e-6)
    assert omega_total(x) == pytest.approx(ref.loc[name, "omega_total"], abs=1e-4)


def test_real_data_bfi_conscientiousness_matches_psych():
    ref = pd.read_csv(REF / "psych_bfi_conscientiousness.csv").iloc[0]
    b = load_rdataset("psych", "bfi")[["C1", "C2", "C3", "C4", "C5"]].dropna().copy()
    b["C4"] = 7 - b["C4"]
    b["C5"] = 7 - b["C5"]
    assert len(b) == ref["n"]
    assert cronbach_alpha(b.to_numpy())[0] == pytest.approx(ref["alpha"], abs=1e-6)
    assert omega_total(b.to_numpy()) == pytest.approx(ref["omega_total"], abs=1e-4)


def test_feldt_ci_coverage_simulation():
    """Parallel items with known alpha: Feldt 95% CI covers it in about 95% of 200 samples."""
    rng = np.random.default_rng(5)
    k, lam = 6, 0.7
    rho = lam ** 2  # inter-item correlation of standardized parallel items
    true_alpha = k * rho / (1 + (k - 1) * rho)
    hits = 0
    for _ in range(200):
        f = rng.normal(size=(80, 1))
        x = lam * f + np.sqrt(1 - lam ** 2) * rng.normal(size=(80, k))
        _, lo, hi = cronbach_alpha(x)
        hits += lo <= true_alpha <= hi
    assert 0.9 <= hits / 200 <= 0.99


def test_agreement_on_reconstruction_and_perfect_agreement():
    d = pds.practices.reconstruct_year1(0)
    res = pds.practices.agreement(d["practice_ratings"], n_boot=50, progress=False)
    t = res.to_frame().set_index("coefficient")
    for c in t.index:
        assert t.loc[c, "ci_lower"] <= t.loc[c, "estimate"] <= t.loc[c, "ci_upper"]
        assert 0 < t.loc[c, "estimate"] < 1
    assert t.loc["fleiss_kappa", "units"] == 28 * 48
    assert res.sample_log.dropped  # consensus rows are not informant ratings
    r = d["practice_ratings"]
    cons = r[r["informant_role"] == "consensus"]
    same = pd.concat([cons.assign(informant_role=role) for role in pds.practices.ROLES])
    t2 = pds.practices.agreement(same, n_boot=10, progress=False).to_frame()
    assert np.allclose(t2["estimate"], 1.0)


def test_reliability_on_reconstruction():
    d = pds.practices.reconstruct_year1(0)
    t = pds.practices.reliability(d["practice_ratings"], n_boot=30, progress=False).to_frame()
    t = t.set_index("coefficient")
    assert t.loc["kr20_cells", "items"] == 47
    assert (t["ci_lower"] <= t["estimate"]).all() and (t["estimate"] <= t["ci_upper"]).all()
    assert t.loc["omega_practices", "std_error"] > 0


def test_kappa_and_alpha_recover_known_agreement_simulation():
    """Raters copy the true 0/1 status with probability q, else guess: expected kappa = q^2."""
    rng = np.random.default_rng(8)
    n, m, q = 4000, 4, 0.7
    truth = rng.integers(0, 2, n)
    copy = rng.random((n, m)) < q
    ratings = np.where(copy, truth[:, None], rng.integers(0, 2, (n, m)))
    counts = np.column_stack([(ratings == 0).sum(axis=1), (ratings == 1).sum(axis=1)])
    k, se0 = fleiss_kappa(counts)
    assert k == pytest.approx(q ** 2, abs=0.025)
    # Krippendorff's nominal alpha equals Fleiss' kappa up to a small-sample correction
    assert krippendorff_alpha(ratings.astype(float), "nominal") == pytest.approx(k, abs=0.005)
    # independent raters: kappa near 0, within 3 null SEs
    indep = rng.integers(0, 2, (n, m))
    k0, se = fleiss_kappa(np.column_stack([(indep == 0).sum(axis=1), (indep == 1).sum(axis=1)]))
    assert abs(k0) < 3 * se


def test_agreement_needs_informant_rows():
    d = pds.practices.reconstruct_year1(0)
    r = d["practice_ratings"]
    with pytest.raises(pds.DataValidationError, match="at least two informants"):
        pds.practices.agreement(r[r["informant_role"] == "consensus"], n_boot=5, progress=False)


def test_agreement_by_practice():
    d = pds.practices.reconstruct_year1(0)
    res = pds.practices.agreement(d["practice_ratings"], n_boot=5, progress=False)
    bp = res.by_practice
    assert bp["practice"].tolist() == list(pds.practices.PRACTICES)
    assert (bp["cells"] == 28 * 4).all()
    assert bp["share_unanimous"].between(0, 1).all()
    assert bp["fleiss_kappa"].notna().all()
    assert "By practice" in res.summary()
