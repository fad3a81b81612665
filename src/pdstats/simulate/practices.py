"""Stage-matrix evidence and interview codes of the studied districts, year by year.

Each studied district ``d`` has a latent practice index ``P[d, t]`` (``P[d, 1] ~ N(0, 1)``,
then ``P[d, t] = P[d, t-1] + practice_drift + practice_drift_sd * N(0, 1)``). Cell ``c``
(practice x stage of Table 6.1) shows in the consensus evidence when

    b_c + lambda P[d, t] + nu[d, c] + omega[d, c, t] > 0,

with persistent ``nu ~ N(0, practice_cell_sd^2)`` and transient
``omega ~ N(0, practice_year_sd^2)``. ``b_c = Phi^-1(n_c / 28) sqrt(lambda^2 + sd_nu^2 +
sd_omega^2)``, where ``n_c`` is the Table 6.1 count, so the expected number of
districts showing a cell in year 1 is the published count (``n_c / 28`` is kept inside
[0.5/28, 27.5/28]). Each of the four informants reports an evidenced cell with a
role x practice-group probability (at least one informant does); the consensus row is
the union of the informants. Interview codes count the data-use passages of Figure 4.2
(Poisson, rate rising with ``P``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from pdstats.practices import GROUPS, ROLES, stage_matrix, year1_facts

__all__ = ["practice_tables", "ROLE_PROB"]

#: Probability that an informant (row) reports an evidenced cell of a practice group.
ROLE_PROB = pd.DataFrame(
    [[0.70, 0.70, 0.70, 0.70, 0.70],
     [0.60, 0.30, 0.85, 0.70, 0.60],
     [0.30, 0.70, 0.15, 0.15, 0.20],
     [0.30, 0.50, 0.15, 0.60, 0.30]],
    index=list(ROLES), columns=list(GROUPS),
)  # fmt: skip
_BOOST = {"finance": "chief_financial_officer", "human_resources": "chief_hr_officer"}
_ROLE_CODE_WEIGHT = np.array([0.35, 0.35, 0.1, 0.2])


def practice_tables(rng: np.random.Generator, districts: pd.DataFrame, index: np.ndarray,
                    years: tuple[int, ...], p: dict) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """``practice_ratings`` and ``interview_codes`` of the studied districts.

    ``index`` is the (districts x years) latent practice index; only studied districts
    are interviewed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from pdstats.simulate.params import DEFAULTS
    >>> from pdstats.simulate.practices import practice_tables
    >>> d = pd.DataFrame({"district_id": ["0600001", "0600002"], "studied": True})
    >>> r, codes = practice_tables(np.random.default_rng(0), d, np.zeros((2, 1)), (2005,), DEFAULTS)
    >>> len(r), sorted(r["informant_role"].unique())[0]
    (480, 'chief_academic_officer')
    """
    sm = stage_matrix()
    studied = np.flatnonzero(districts["studied"].to_numpy())
    ids = districts["district_id"].to_numpy(dtype=object)[studied]
    n_d, n_c = len(studied), len(sm)
    lam, s_nu, s_om = p["practice_loading"], p["practice_cell_sd"], p["practice_year_sd"]
    q = np.clip(sm["n_districts"].to_numpy() / 28, 0.5 / 28, 27.5 / 28)
    b = ndtri(q) * np.sqrt(lam**2 + s_nu**2 + s_om**2)
    nu = s_nu * rng.standard_normal((n_d, n_c))
    prob = np.empty((4, n_c))
    groups = sm["group"].astype(str).to_numpy()
    practices = sm["practice"].astype(str).to_numpy()
    for r, role in enumerate(ROLES):
        prob[r] = ROLE_PROB.loc[role, groups].to_numpy()
        for prac, boosted in _BOOST.items():
            if role == boosted:
                prob[r, practices == prac] = 0.9
    frames = []
    for t, year in enumerate(years):
        prop = b[None, :] + lam * index[studied, t][:, None] + nu + s_om * rng.standard_normal((n_d, n_c))
        ev = prop > 0
        said = (rng.uniform(size=(4, n_d, n_c)) < prob[:, None, :]) & ev[None]
        none = ev & ~said.any(axis=0)
        if none.any():  # the most likely informant reports cells nobody else did
            said[np.argmax(prob, axis=0)[np.nonzero(none)[1]], *np.nonzero(none)] = True
        for who, mat in [("consensus", ev), *zip(ROLES, said, strict=True)]:
            frames.append(pd.DataFrame({
                "district_id": np.repeat(ids, n_c), "year": year,
                "practice": np.tile(practices, n_d), "stage": np.tile(sm["stage"].to_numpy(), n_d),
                "evidence": mat.reshape(-1).astype(np.int64), "rating": np.nan,
                "informant_role": who, "source": "interview"}))  # fmt: skip
    ratings = pd.concat(frames, ignore_index=True)
    # Figure 4.2 data-use passages: per-district rates from the published totals
    facts = year1_facts()
    inst = facts[facts["agg"] == "instances"]
    rows = []
    for code, total in zip(inst["code"], inst["value"], strict=True):
        rate = total / 28 * np.exp(0.4 * index[studied] - 0.08)  # (n_d, n_y)
        counts = rng.poisson(rate[..., None] * _ROLE_CODE_WEIGHT)  # (n_d, n_y, 4)
        dd, tt, rr = np.nonzero(counts)
        rows.append(pd.DataFrame({
            "district_id": ids[dd], "year": np.asarray(years)[tt],
            "informant_role": np.asarray(ROLES, dtype=object)[rr], "code": code,
            "count": counts[dd, tt, rr].astype(np.int64)}))  # fmt: skip
    codes = pd.concat(rows, ignore_index=True)
    return ratings, codes
