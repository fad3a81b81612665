"""Shared assertions for the result contract and the bad-input property tests.

Each family's ``test_contract_<family>.py`` builds small fits and calls
:func:`assert_contract`; each ``test_robust_<family>.py`` feeds generated bad input to an
estimator through :func:`assert_safe_outcome`. ``CASES`` counts the generated cases per
family so the closing note can report them (``pytest -s`` prints the tally).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import pdstats as pds
from pdstats.results import ResultsBase, SampleLog

CASES: Counter[str] = Counter()
ESTIMATE_COLUMNS = ["estimate", "std_error", "ci_lower", "ci_upper"]


def assert_contract(res: Any) -> None:
    """``res`` follows the one result contract of the README."""
    assert isinstance(res, ResultsBase), type(res)
    name = type(res).__name__
    assert name.endswith("Result"), f"{name}: result classes end in 'Result'"
    est = res.estimates
    assert isinstance(est, pd.DataFrame), f"{name}.estimates is not a DataFrame"
    for c in ESTIMATE_COLUMNS:
        assert c in est.columns, f"{name}.estimates lacks {c!r}: {list(est.columns)}"
    assert len(res.key_columns) >= 1, f"{name}.estimates has no key column (term/unit/quantity)"
    assert isinstance(res.sample_log, SampleLog)
    t = res.tidy()
    pd.testing.assert_frame_equal(t, est)
    t[t.columns[0]] = None  # a copy: changing it leaves the result alone (any key dtype)
    assert not est.iloc[:, 0].isna().all() or len(est) == 0
    ci = res.conf_int(0.9)
    assert {"ci_lower", "ci_upper"} <= set(ci.columns), name
    ci95 = res.conf_int(0.95)
    ok = ci95["ci_lower"].notna() & ci["ci_lower"].notna()
    assert (ci.loc[ok, "ci_lower"] >= ci95.loc[ok, "ci_lower"] - 1e-9).all(), f"{name}: 90% wider than 95%"
    assert isinstance(res.summary(), str) and len(res.summary()) > 0
    assert "<" in res._repr_html_()
    try:
        import pdstats.errors as err_mod  # noqa: F401

        for level in (0, 1, 95, "0.95", float("nan")):
            try:
                res.conf_int(level)
            except pds.PdstatsError:
                pass
            else:  # pragma: no cover - the assertion message is the point
                raise AssertionError(f"{name}.conf_int({level!r}) did not refuse")
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")


def assert_safe_outcome(family: str, call: Callable[[], Any],
                        estimates: Callable[[Any], pd.DataFrame] | None = None) -> str:
    """Run ``call`` on generated input; it must end in one of three acceptable ways.

    1. a result whose estimates are finite with positive standard errors;
    2. a result whose affected rows carry a true ``flag`` and an
       :class:`pds.EstimationWarning` was raised (e.g. a singular fit);
    3. a :class:`pds.PdstatsError` subclass.

    Never a raw numpy/scipy/pandas exception, and never a zero or NaN estimate or SE
    presented as converged. Returns which of ``"ok"``, ``"flagged"``, ``"refused"``.
    """
    CASES[family] += 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = call()
        except pds.PdstatsError:
            return "refused"
    est = estimates(res) if estimates is not None else res.estimates
    assert isinstance(est, pd.DataFrame)
    stat = est[["estimate", "std_error"]].to_numpy(dtype=float)
    good = np.isfinite(stat).all(axis=1) & (stat[:, 1] > 0)
    if good.all():
        return "ok"
    flagged = est["flag"].fillna(False).astype(bool).to_numpy() if "flag" in est else np.zeros(len(est), bool)
    assert flagged[~good].all(), (
        f"{family}: {int((~good).sum())} row(s) with a non-finite estimate or a zero/NaN SE are not flagged:\n"
        f"{est.loc[~good].head()}"
    )
    assert any(issubclass(w.category, pds.EstimationWarning) for w in caught), (
        f"{family}: flagged rows but no EstimationWarning"
    )
    return "flagged"
