"""States with their tests, districts and schools of a simulated world.

* **States and tests.** Each state has its own test (a transform of the NAEP-like scale,
  see :mod:`pdstats.simulate.scales`), its own number of proficiency levels, what it
  publishes (means, level counts or both) and how small a cell it suppresses. The
  proficiency cut of state ``s`` sits at ``ref_mean + q_s ref_sd`` on the NAEP scale with
  stringencies ``q_s`` spread over [-1.2, 0.4] SD (tens of NAEP points apart, as in the
  NCES state-mapping studies); the other cuts sit 0.7 SD below / 0.9 SD above it.
* **Districts.** The studied districts' enrollment, % FRL, % LEP and % minority are drawn
  from the bins of the year-1 report's Figure 1.1 (bin probabilities = published shares,
  tied together by a Gaussian copula); comparison districts are smaller and less poor.
* **Schools.** Elementary (K-5) and middle (6-8) schools; each district has enough of
  them to hold its simulated students.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from pdstats.data.codes import STATE_FIPS, STATE_NAMES
from pdstats.practices import year1_facts
from pdstats.simulate import scales

__all__ = ["World", "build_world", "STATE_TESTS"]

#: (state, test name, scale location, points per SD, points per grade for vertical scales)
STATE_TESTS: tuple[tuple[str, str, float, float, float], ...] = (
    ("CA", "California Standards Tests (simulated)", 340.0, 55.0, 0.0),
    ("TX", "TAKS (simulated)", 2200.0, 180.0, 0.0),
    ("MA", "MCAS (simulated)", 238.0, 16.0, 0.0),
    ("FL", "FCAT developmental scale (simulated)", 1500.0, 260.0, 120.0),
    ("NY", "NYSTP (simulated)", 665.0, 38.0, 0.0),
    ("IL", "ISAT (simulated)", 220.0, 30.0, 12.0),
    ("GA", "CRCT (simulated)", 820.0, 35.0, 0.0),
    ("NC", "EOG (simulated)", 250.0, 10.0, 6.0),
    ("OH", "OAT (simulated)", 410.0, 28.0, 0.0),
    ("PA", "PSSA (simulated)", 1300.0, 220.0, 0.0),
)
_PUBLISHES = ("means", "levels", "both")
_N_LEVELS = (5, 3, 4, 4, 5, 3, 4, 5, 3, 4)
_THRESHOLD = (10, 15, 10, 20, 5, 10, 15, 10, 30, 10)
_HISPANIC_SHARE = {"CA": 0.75, "TX": 0.65, "FL": 0.45, "NY": 0.45, "IL": 0.45, "MA": 0.5}


@dataclass
class World:
    """Everything about a world except its students (built by :func:`build_world`; see its example)."""

    states: pd.DataFrame
    tests: pd.DataFrame  # state x year x grade x subject: scale and cuts (truth)
    cut_scores: pd.DataFrame
    districts: pd.DataFrame
    schools: pd.DataFrame
    # per-district arrays (index = row of ``districts``)
    district_effect: np.ndarray  # (n_districts, 2) growth effect by subject
    district_status: np.ndarray  # (n_districts,)
    practice_index: np.ndarray  # (n_districts, n_years)
    p4p_year: np.ndarray  # first treated year (0 = never)
    school_p4p_year: np.ndarray  # first treated year of schools adopting alone (0 = never)
    # per-school arrays (index = row of ``schools``)
    school_effect: np.ndarray  # (n_schools, 2)
    school_status: np.ndarray
    state_status: dict[str, float]
    growth_var: float


def _cuts(n_levels: int) -> np.ndarray:
    """Cut offsets in reference SDs around the proficient cut (0), lowest first."""
    if n_levels == 2:
        return np.array([0.0])
    return np.array([*(-0.7 * k for k in range(n_levels - 3, 0, -1)), 0.0, 0.9])


def _proficient_level(n_levels: int) -> int:
    return n_levels - 1 if n_levels > 2 else 2


def _states(rng: np.random.Generator, p: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n = p["n_states"]
    specs = STATE_TESTS[:n]
    codes = [s[0] for s in specs]
    states = pd.DataFrame({
        "state": codes,
        "state_name": [STATE_NAMES[c] for c in codes],
        "fips": [STATE_FIPS[c] for c in codes],
        "test_name": [s[1] for s in specs],
        "publishes": [_PUBLISHES[i % 3] for i in range(n)],
        "n_levels": [_N_LEVELS[i] for i in range(n)],
        "suppression_threshold": [_THRESHOLD[i] for i in range(n)],
    })  # fmt: skip
    stringency = np.linspace(-1.2, 0.4, n) if n > 1 else np.array([-0.4])
    states["stringency"] = rng.permutation(stringency)
    rows = []
    for i, (code, _, loc, spread, step) in enumerate(specs):
        n_levels = _N_LEVELS[i]
        offsets = _cuts(n_levels)
        for subject in scales.SUBJECTS:
            kappa = round(float(rng.uniform(-0.2, 0.2)), 3)
            means = scales.grade_means(subject)
            for grade in scales.GRADES:
                rm, rs = means[grade], scales.ref_sd(grade, subject, p["growth_var"])
                rel = round(float(rng.uniform(0.86, 0.93)), 3)
                q = states.loc[i, "stringency"] + rng.normal(0, 0.08)
                naep_cuts = rm + rs * (q + offsets)
                glocation = loc + step * (grade - 4)
                state_cuts = np.round(scales.to_state(naep_cuts, rm, rs, glocation, spread, kappa))
                for k in range(1, len(state_cuts)):  # keep cuts strictly increasing
                    state_cuts[k] = max(state_cuts[k], state_cuts[k - 1] + 1)
                exact = scales.to_naep(state_cuts, rm, rs, glocation, spread, kappa)
                for year in p["years"]:
                    row = {"state": code, "year": year, "grade": grade, "subject": subject,
                           "ref_mean": rm, "ref_sd": rs, "scale_location": glocation,
                           "scale_spread": spread, "nonlinearity": kappa, "reliability": rel,
                           "n_levels": n_levels, "proficient_level": _proficient_level(n_levels),
                           "scale_min": float(np.round(scales.to_state(rm - 4.5 * rs, rm, rs, glocation, spread, kappa))),
                           "scale_max": float(np.round(scales.to_state(rm + 4.5 * rs, rm, rs, glocation, spread, kappa)))}  # fmt: skip
                    for k in range(5):
                        row[f"cut_{k + 1}"] = state_cuts[k] if k < len(state_cuts) else np.nan
                        row[f"naep_cut_{k + 1}"] = exact[k] if k < len(exact) else np.nan
                    rows.append(row)
    tests = pd.DataFrame(rows)
    cut_cols = [f"cut_{k}" for k in range(1, 6)]
    cut_scores = tests[["state", "year", "grade", "subject", "n_levels", *cut_cols,
                        "proficient_level", "reliability"]].copy()  # fmt: skip
    return states, tests, cut_scores


def _figure_1_1_bins(rng: np.random.Generator, z: np.ndarray) -> dict[str, np.ndarray]:
    """Values drawn inside Figure 1.1's bins; bin probabilities are the published shares."""
    facts = year1_facts()
    fig = facts[(facts["figure"] == "Figure 1.1") & (facts["category"] != "Total")]
    ranges = {
        "pct_frl": [(5, 25), (26, 50), (51, 75), (76, 95)],
        "pct_lep": [(1, 10), (11, 20), (21, 30), (31, 55)],
        "pct_minority": [(12, 25), (26, 50), (51, 75), (76, 97)],
        "enrollment": [(6_000, 25_000), (26_000, 50_000), (51_000, 75_000), (76_000, 420_000)],
    }
    out = {}
    for j, (code, rng_list) in enumerate(ranges.items()):
        counts = fig.loc[fig["code"] == code, "value"].to_numpy(dtype=float)
        edges = ndtri(np.cumsum(counts)[:-1] / counts.sum())
        b = np.searchsorted(edges, z[:, j])
        lo = np.array([r[0] for r in rng_list], float)[b]
        hi = np.array([r[1] for r in rng_list], float)[b]
        u = rng.uniform(size=len(b))
        if code == "enrollment":  # log-uniform inside the bin
            out[code] = np.round(np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))).astype(np.int64)
        else:
            out[code] = np.round(lo + u * (hi - lo), 1)
    return out


def _districts(rng: np.random.Generator, p: dict, states: pd.DataFrame) -> pd.DataFrame:
    n_s, n_c = p["n_districts"], p["n_comparison"]
    corr = np.array([[1.0, 0.3, 0.6, 0.1], [0.3, 1.0, 0.35, 0.25], [0.6, 0.35, 1.0, 0.2],
                     [0.1, 0.25, 0.2, 1.0]])  # fmt: skip
    studied = _figure_1_1_bins(rng, rng.multivariate_normal(np.zeros(4), corr, size=n_s))
    comp = {
        "pct_frl": np.round(rng.uniform(15, 70, n_c), 1),
        "pct_lep": np.round(rng.uniform(1, 25, n_c), 1),
        "pct_minority": np.round(rng.uniform(10, 80, n_c), 1),
        "enrollment": np.round(np.exp(rng.uniform(np.log(5_000), np.log(60_000), n_c))).astype(np.int64),
    }
    n_states = len(states)
    state_of = np.concatenate([rng.permutation(np.arange(n_s) % n_states),
                               rng.permutation(np.arange(n_c) % n_states)])  # fmt: skip
    codes = states["state"].to_numpy()[state_of]
    fips = states["fips"].to_numpy()[state_of]
    ids = np.empty(n_s + n_c, dtype=object)
    for i in range(n_states):
        idx = np.flatnonzero(state_of == i)
        local = np.sort(rng.choice(np.arange(1, 100_000), size=len(idx), replace=False))
        ids[idx] = [f"{fips[idx[0]]:02d}{v:05d}" for v in rng.permutation(local)]
    df = pd.DataFrame({
        "district_id": ids,
        "state": codes,
        "district_name": [f"Simulated {'study' if k < n_s else 'comparison'} district {k + 1:02d}"
                          for k in range(n_s + n_c)],
        "enrollment": np.concatenate([studied["enrollment"], comp["enrollment"]]),
        "pct_frl": np.concatenate([studied["pct_frl"], comp["pct_frl"]]),
        "pct_lep": np.concatenate([studied["pct_lep"], comp["pct_lep"]]),
        "pct_minority": np.concatenate([studied["pct_minority"], comp["pct_minority"]]),
        "locale": np.concatenate([np.where(rng.uniform(size=n_s) < 0.85, "city", "suburb"),
                                  rng.choice(["city", "suburb", "town", "rural"], size=n_c)]),
        "studied": np.arange(n_s + n_c) < n_s,
    })  # fmt: skip
    return df


def _schools(rng: np.random.Generator, p: dict, districts: pd.DataFrame) -> pd.DataFrame:
    hi = p["size_hi"] if p["size_hi"] is not None else np.inf
    per_grade = np.clip(districts["enrollment"].to_numpy() * p["size_fraction"] / 13, p["size_lo"], hi)
    rows = []
    for d, (did, n) in enumerate(zip(districts["district_id"], per_grade, strict=True)):
        n_elem = max(1, int(round(n / p["size_elem"])))
        n_mid = max(1, int(round(n / p["size_mid"])))
        start = int(rng.integers(1, 50_000))
        for j in range(n_elem + n_mid):
            elem = j < n_elem
            size = n / (n_elem if elem else n_mid) * rng.uniform(0.75, 1.25)
            rows.append((f"{did}{start + j:05d}", did, d, "elementary" if elem else "middle",
                         0 if elem else 6, 5 if elem else 8, size))
    sch = pd.DataFrame(rows, columns=["school_id", "district_id", "district_index", "level",
                                      "grade_low", "grade_high", "per_grade"])  # fmt: skip
    frl = districts["pct_frl"].to_numpy()[sch["district_index"]]
    sch["pct_frl"] = np.round(np.clip(frl + rng.normal(0, 10, len(sch)), 1, 99), 1)
    n_grades = sch["grade_high"] - sch["grade_low"] + 1
    sch["enrollment"] = np.round(sch["per_grade"] * n_grades).astype(np.int64)
    names = np.where(sch["level"] == "elementary", "Elementary", "Middle")
    sch["school_name"] = [f"Simulated {n} {i + 1:04d}" for i, n in enumerate(names)]
    return sch


def _correlated(rng: np.random.Generator, n: int, sd: float, corr: float) -> np.ndarray:
    z = rng.standard_normal((n, 2))
    return sd * np.column_stack([z[:, 0], corr * z[:, 0] + np.sqrt(1 - corr**2) * z[:, 1]])


def build_world(rng: np.random.Generator, p: dict) -> World:
    """Draw states, tests, districts, schools, their effects, practice index and adoption.

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.simulate.params import resolve_params
    >>> from pdstats.simulate.world import build_world
    >>> p = resolve_params("small", 2, 4, (2005, 2006), {"n_comparison": 0})
    >>> w = build_world(np.random.default_rng(0), p)
    >>> list(w.states["state"]), len(w.districts), w.practice_index.shape
    (['CA', 'TX'], 4, (4, 2))
    """
    states, tests, cut_scores = _states(rng, p)
    districts = _districts(rng, p, states)
    schools = _schools(rng, p, districts)
    n_d, n_y = len(districts), len(p["years"])
    idx = np.empty((n_d, n_y))
    idx[:, 0] = rng.standard_normal(n_d)
    for t in range(1, n_y):
        idx[:, t] = idx[:, t - 1] + p["practice_drift"] + p["practice_drift_sd"] * rng.standard_normal(n_d)
    # pay for performance: a share of districts adopts, staggered over the adoption years
    adopt = np.zeros(n_d, dtype=np.int64)
    later = p["p4p_years"]
    if later:
        n_adopt = int(round(p["p4p_share"] * n_d))
        who = rng.choice(n_d, size=n_adopt, replace=False)
        adopt[who] = np.array(later)[np.arange(n_adopt) % len(later)]
    school_adopt = np.zeros(len(schools), dtype=np.int64)
    if later:
        eligible = np.flatnonzero(adopt[schools["district_index"].to_numpy()] == 0)
        who = eligible[rng.uniform(size=len(eligible)) < p["p4p_school_share"]]
        school_adopt[who] = rng.choice(np.array(later), size=len(who))
    frl = districts["pct_frl"].to_numpy()
    return World(
        states=states,
        tests=tests,
        cut_scores=cut_scores,
        districts=districts,
        schools=schools,
        district_effect=_correlated(rng, n_d, p["sd_district"], 0.6),
        district_status=-0.15 * (frl - 60) + p["sd_district_status"] * rng.standard_normal(n_d),
        practice_index=idx,
        p4p_year=adopt,
        school_p4p_year=school_adopt,
        school_effect=_correlated(rng, len(schools), p["sd_school"], 0.6),
        school_status=p["sd_school_status"] * rng.standard_normal(len(schools)),
        state_status={s: float(v) for s, v in zip(states["state"], p["sd_state_status"] * rng.standard_normal(len(states)), strict=True)},
        growth_var=p["growth_var"],
    )  # fmt: skip
