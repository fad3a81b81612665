"""Person estimates (WLE, ML) against a brute-force maximization written here.

The reference maximizes the criterion directly on a fine grid (then a golden-section
refinement), with its own log-sum-exp likelihood, so it shares no code with
``pdstats.practices.rasch``: Warm's WLE maximizes ``log L(theta) + log I(theta) / 2`` (for
the PCM, a canonical exponential family, its score equation is ``r - E + k3 / (2 I)``),
ML maximizes ``log L(theta)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.special import logsumexp

from pdstats.practices.rasch import person_estimates


def _criterion(theta: float, r: int, betas: list[np.ndarray], wle: bool) -> float:
    ll, info = r * theta, 0.0
    for b in betas:
        h = np.arange(len(b) + 1)
        z = h * theta + np.concatenate([[0.0], b])
        lse = logsumexp(z)
        ll -= lse
        p = np.exp(z - lse)
        info += float((h**2 * p).sum() - (h * p).sum() ** 2)
    return ll + (0.5 * np.log(info) if wle else 0.0)


def _grid_criterion(grid: np.ndarray, r: int, betas: list[np.ndarray], wle: bool) -> np.ndarray:
    ll, info = r * grid, np.zeros(len(grid))
    for b in betas:
        h = np.arange(len(b) + 1)
        z = grid[:, None] * h + np.concatenate([[0.0], b])
        lse = logsumexp(z, axis=1)
        ll = ll - lse
        p = np.exp(z - lse[:, None])
        info += (p * h**2).sum(1) - (p * h).sum(1) ** 2
    with np.errstate(divide="ignore"):
        return ll + (0.5 * np.log(np.maximum(info, 1e-300)) if wle else 0.0)


def _brute_force(r: int, betas: list[np.ndarray], wle: bool) -> float:
    grid = np.linspace(-120, 120, 2401)
    vals = _grid_criterion(grid, r, betas, wle)
    i = int(np.nanargmax(vals))
    res = optimize.minimize_scalar(lambda t: -_criterion(t, r, betas, wle), bracket=(grid[i - 1], grid[i], grid[i + 1]),
                                   tol=1e-12)
    return float(res.x)


ITEMS = {
    "moderate": [np.array([0.5, 0.2, -0.8, -2.0]), np.array([1.0, 0.0, -1.5]), np.array([-0.3])],
    # category parameters of the size the CML fit gives on sparse simulated ratings
    "extreme": [np.array([28.1, 29.0, 20.0, 5.0]), np.array([-3.0, -9.0, -12.6, -15.1]),
                np.array([4.0, 6.6, 5.9, -10.1])],
    "far_off_scale": [np.array([45.0, 70.0]), np.array([40.0, 60.0, 90.0]), np.array([38.0])],
}


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_wle_matches_brute_force_for_every_raw_score(name: str) -> None:
    betas = ITEMS[name]
    top = sum(len(b) for b in betas)
    raw = np.arange(top + 1)  # includes the all-minimum (0) and all-maximum patterns
    est = person_estimates(raw, betas, method="wle")
    assert np.isfinite(est["theta"]).all() and np.isfinite(est["se"]).all()
    ref = np.array([_brute_force(int(r), betas, wle=True) for r in raw])
    np.testing.assert_allclose(est["theta"].to_numpy(), ref, atol=1e-4)
    assert np.all(np.diff(est["theta"].to_numpy()) > 0)  # monotone in the raw score


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_ml_matches_brute_force_and_is_nan_at_the_extremes(name: str) -> None:
    betas = ITEMS[name]
    top = sum(len(b) for b in betas)
    raw = np.arange(top + 1)
    est = person_estimates(raw, betas, method="ml")
    assert np.isnan(est["theta"].iloc[0]) and np.isnan(est["theta"].iloc[-1])
    ref = np.array([_brute_force(int(r), betas, wle=False) for r in raw[1:-1]])
    np.testing.assert_allclose(est["theta"].to_numpy()[1:-1], ref, atol=1e-4)


def test_se_is_inverse_root_information() -> None:
    betas = ITEMS["extreme"]
    est = person_estimates(np.array([0, 5, 12]), betas, method="wle")
    for t, se in zip(est["theta"], est["se"], strict=True):
        h = 1e-4
        info = -(_criterion(t + h, 0, betas, False) - 2 * _criterion(t, 0, betas, False)
                 + _criterion(t - h, 0, betas, False)) / h**2
        assert se == pytest.approx(1 / np.sqrt(info), rel=1e-4)


def test_cml_without_a_maximum_is_refused_naming_the_items() -> None:
    """Item a is never failed by a person who passes b or c: its CML estimate is infinite."""
    import pandas as pd

    import pdstats as pds
    from pdstats.practices.rasch import fit_pcm

    x = pd.DataFrame([[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 0], [1, 0, 1], [0, 0, 0], [1, 1, 1], [1, 0, 0]],
                     columns=["a", "b", "c"])
    with pytest.raises(pds.ConvergenceError, match=r"not identified.*'a'"):
        fit_pcm(x)
    ok = x.copy()
    ok.loc[len(ok)] = [0, 1, 0]  # a person who fails a but passes b: now identified
    ok.loc[len(ok)] = [0, 0, 1]
    assert np.isfinite(fit_pcm(ok).items["beta"]).all()


def test_a_category_seen_only_in_an_extreme_person_counts_as_unobserved():
    # item "a" reaches category 2 only for the one person with the maximum raw score, who
    # carries no information in the conditional likelihood: the CML has no maximum unless
    # that category is merged (it used to raise "not identified")
    import warnings

    from pdstats.practices.rasch import fit_pcm

    rng = np.random.default_rng(3)
    theta = rng.normal(size=60)
    x = pd.DataFrame({c: np.clip(np.round(theta + rng.normal(size=60) + 1), 0, 2).astype(int)
                      for c in "bcd"})
    x["a"] = (theta + rng.normal(size=60) > 0).astype(int)
    x.loc[len(x)] = {"a": 2, "b": 2, "c": 2, "d": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_pcm(x)
    rec = res.recode[res.recode["item"] == "a"].set_index("original")["recoded"]
    assert rec.to_dict() == {0: 0, 1: 1, 2: 1}
    assert np.all(np.isfinite(res.items["se"])) and (res.items["se"] > 0).all()
