"""Power and minimum detectable practice effect of a practices-and-growth design.

The design is three-level: students' yearly growth within district-years within
districts, with the practice score a district-level predictor measured with error
(:mod:`pdstats.power.design`: ``levels=3, assigned_at=3``, the predictor's variance 1 per SD
of the error-free score, times its reliability conditional on the model's covariates). The
analytic numbers come from :func:`pdstats.power.mdes` / :func:`pdstats.power.power`; the
simulated ones from the validation runner (:func:`pdstats.linkage.validation.validate`,
whose rejection rate at a given ``practice_effect`` is the power of the default test).

Defaults describe the default simulated world: two growth years (three study years),
about 300 tested students per district and year in a subject, the share of student
growth variance between districts 0.04 (``sd_district^2 / growth_var`` = 4 / 97) and
between district-years 0.03 (school and teacher effects averaged over a district's
schools and classes), and a yearly-growth SD of sqrt(97) = 9.85 NAEP points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pdstats.power.results import PowerResult

__all__ = ["GROWTH_SD", "design_power", "mdes_table"]

#: SD of students' yearly growth in the default simulated world (NAEP points).
GROWTH_SD = float(np.sqrt(97.0))


def design_power(effect: float | None = None, *, n_districts: float = 28, years: float = 2,
                 students: float = 300, icc: tuple[float, float] = (0.03, 0.04),
                 r2: tuple[float, float, float] = (0.0, 0.0, 0.0), reliability: float = 0.95,
                 alpha: float = 0.05, power: float = 0.8) -> PowerResult:
    """The design's minimum detectable effect (and power for ``effect``), in growth SDs.

    Parameters
    ----------
    effect : float, optional
        Effect (student SDs of yearly growth per SD of the error-free practice score) at
        which power is computed; default: the MDES.
    n_districts, years, students : float
        Districts, growth years per district, tested students per district and year.
    icc : (float, float)
        Shares of growth variance between district-years (within district) and between
        districts.
    r2 : (float, float, float)
        Shares explained by covariates at the student, district-year and district level.
    reliability : float
        Reliability of the practice score conditional on the covariates.
    alpha, power : float
        Test level and target power.

    Returns
    -------
    PowerResult
        ``.mdes`` and ``.power`` in student SDs of yearly growth; multiply by the growth SD
        (``GROWTH_SD`` for the simulated world) for NAEP points.

    Examples
    --------
    >>> res = design_power(n_districts=28)
    >>> round(res.mdes * GROWTH_SD, 1) > 0
    True
    """
    from pdstats.power import mdes
    from pdstats.power import power as power_at

    kw = dict(levels=3, assigned_at=3, n_clusters=n_districts, subclusters=years, cluster_size=students,
              icc=icc, r2=r2, predictor_variance=1.0, reliability=reliability, alpha=alpha)
    if effect is None:
        return mdes(power=power, **kw)
    return power_at(float(effect), **kw)


def mdes_table(n_districts: Sequence[float] = (10, 20, 28, 40, 60, 100), effect_points: float = 2.0,
               growth_sd: float = GROWTH_SD, **design: float) -> pd.DataFrame:
    """MDES (NAEP points per SD of the practice score) and power at ``effect_points`` by size.

    Examples
    --------
    >>> t = mdes_table((28, 56))
    >>> bool(t["mdes_points"].iloc[0] > t["mdes_points"].iloc[1])
    True
    """
    rows = []
    for n in n_districts:
        m = design_power(n_districts=n, **design)
        p = design_power(effect_points / growth_sd, n_districts=n, **design)
        rows.append({"n_districts": n, "mdes_sd": m.mdes, "mdes_points": m.mdes * growth_sd,
                     "df": m.df, "power_at_effect": p.power})
    return pd.DataFrame(rows)
