"""The national (NAEP-like) scale and each state's test as a transform of it.

True achievement ``theta`` lives on a NAEP-like scale. For grade ``g`` and subject ``s``
the national reference population has mean ``ref_mean(g, s)`` (grade-4 math 237,
reading 218, about 10-12 points of growth per grade) and SD ``ref_sd(g, s)``, the SD
implied by the growth model (status SD at grade 2 plus one year of growth variance per
grade). A state's test reports

    x = round( A + B * expm1(kappa * z) / kappa ),   z = (theta_obs - ref_mean) / ref_sd,

with ``theta_obs = theta + sigma_e(theta) * e``, ``e ~ N(0, 1)`` and
``sigma_e(theta)^2 = sigma_e0^2 (1 + c z^2) / (1 + c)``, where
``sigma_e0^2 = ref_sd^2 (1 - r) / r`` for the test's reliability ``r``. The CSEM of a
score is the error SD carried to the state scale, ``B exp(kappa z) / ref_sd *
sigma_e(theta_obs)``. ``kappa`` (the nonlinearity) is mild (|kappa| <= 0.2), so the
transform is monotone and close to linear.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GRADES", "SUBJECTS", "grade_means", "ref_sd", "to_state", "to_naep", "state_slope"]

GRADES: tuple[int, ...] = (3, 4, 5, 6, 7, 8)
SUBJECTS: tuple[str, ...] = ("math", "reading")
#: Grade-4 national means (NAEP 2005 public-school means are about 237 and 217).
_G4 = {"math": 237.0, "reading": 218.0}
#: Mean growth into grade g (from the spring of grade g-1), grades 3..8.
_GROWTH = {"math": (12.0, 11.0, 11.0, 10.0, 10.0, 9.0), "reading": (13.0, 12.0, 11.0, 11.0, 11.0, 11.0)}
#: Status SD at grade 2 (before the first tested grade).
_SD2 = {"math": 26.7, "reading": 30.0}


def growth(grade: int, subject: str) -> float:
    """Mean one-year growth into ``grade`` (NAEP points)."""
    return _GROWTH[subject][grade - 3]


def grade_means(subject: str) -> dict[int, float]:
    """National reference means by grade 2..8.

    Examples
    --------
    >>> from pdstats.simulate.scales import grade_means
    >>> grade_means("math")[4], grade_means("math")[8]
    (237.0, 277.0)
    """
    m = {4: _G4[subject]}
    m[3] = m[4] - growth(4, subject)
    m[2] = m[3] - growth(3, subject)
    for g in range(5, 9):
        m[g] = m[g - 1] + growth(g, subject)
    return dict(sorted(m.items()))


def ref_sd(grade: int, subject: str, growth_var: float) -> float:
    """National reference SD at ``grade``: grade-2 status SD plus ``grade - 2`` years of growth variance.

    Examples
    --------
    >>> from pdstats.simulate.scales import ref_sd
    >>> round(ref_sd(4, "math", 93.0), 1)
    30.0
    """
    return float(np.sqrt(_SD2[subject] ** 2 + (grade - 2) * growth_var))


def to_state(theta: np.ndarray, ref_mean: np.ndarray, ref_sd_: np.ndarray, loc: np.ndarray,
             spread: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """Map NAEP-scale values to a state's scale (unrounded).

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.simulate.scales import to_state, to_naep
    >>> x = to_state(np.array([260.0]), 237.0, 29.0, 350.0, 50.0, 0.15)
    >>> float(np.round(to_naep(x, 237.0, 29.0, 350.0, 50.0, 0.15), 6)[0])
    260.0
    """
    z = (theta - ref_mean) / ref_sd_
    k = np.where(np.abs(kappa) < 1e-9, 1e-9, kappa)
    return loc + spread * np.expm1(k * z) / k


def to_naep(x: np.ndarray, ref_mean: np.ndarray, ref_sd_: np.ndarray, loc: np.ndarray,
            spread: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_state`: the NAEP-scale value of a state-scale value (see its example)."""
    k = np.where(np.abs(kappa) < 1e-9, 1e-9, kappa)
    z = np.log1p(k * (x - loc) / spread) / k
    return ref_mean + ref_sd_ * z


def state_slope(theta: np.ndarray, ref_mean: np.ndarray, ref_sd_: np.ndarray, spread: np.ndarray,
                kappa: np.ndarray) -> np.ndarray:
    """Derivative of :func:`to_state` with respect to theta (state points per NAEP point).

    Examples
    --------
    >>> from pdstats.simulate.scales import state_slope
    >>> float(state_slope(237.0, 237.0, 29.0, 58.0, 0.1))
    2.0
    """
    z = (theta - ref_mean) / ref_sd_
    return spread * np.exp(kappa * z) / ref_sd_
