"""A district-level data set consistent with every published count of the year-1 report.

The year-1 report publishes only marginal counts (how many of the 28 districts show a
practice, a goal, a kind of board, ...); the district-level coding is confidential.
:func:`reconstruct_year1` builds *one* 28-district data set that reproduces every count
exactly and has a plausible joint structure. It is a **reconstruction**, not the study's
data: use it to exercise methods and to regenerate the report's figures, never to draw
conclusions about real districts.

Method
------
1. *Latent capacity.* Each district gets a latent "performance-driven capacity"
   ``theta ~ N(0, 1)`` (the three case-study districts are fixed at -1.0, 0.3 and 1.2:
   the report calls District 1 early, District 3 farthest along).
2. *Demographics (Figure 1.1, Tables 5.1-5.3).* Four correlated normal scores are drawn
   (FRL, LEP, minority, enrollment; FRL-minority correlation 0.6); the case-study districts
   are put in the bins their tables give, and the other districts are put in bins by the
   rank of their score so that each bin count equals the published one exactly. Values are
   then drawn uniformly inside the bin (bins are read as 0-25, 26-50, 51-75, 76-100 percent
   and <=25K, 26K-50K, 51K-75K, 76K+ students).
3. *Binary district facts (Table 6.1 cells and every "N districts" count).* A binary
   matrix ``x[district, code]`` is chosen by integer programming (``scipy.optimize.milp``,
   HiGHS): hard constraints make every published count exact (including counts of
   conjunctions such as "of the 5 boards that monitor goals, 4 have a positive
   relationship"), and encode the report's logical structure (partitions, subsets,
   mutually exclusive categories, case-study facts). The objective is a *perturbed*
   log-likelihood (perturb-and-MAP sampling): ``sum a_c * theta_i * x_ic + Gumbel noise``
   plus bonuses for a stage-k cell together with the stage k-1 cell of the same practice
   and for pairs of related facts (e.g. Table 6.1 "district-wide assessments 2-3 times a
   year" with section 3.4's "district-wide assessments"). Different ``random_state``
   values give different data sets that all satisfy the constraints.
4. *Informants.* Each evidenced cell is attributed to the district's four informants with
   role-specific probabilities (e.g. the chief financial officer for finance cells), at
   least one informant per evidenced cell; the consensus rule "a cell is evidenced when any
   informant evidences it" then returns the consensus rows exactly.
5. *Case studies.* Districts 1-3 of chapter 5 are rows 0-2: their Figure 1.1 bins follow
   Tables 5.1-5.3, and the facts chapter 5 and Table 5.4 state about them (board, union,
   budget, information systems, evaluations, assessments, incentives) are fixed in the
   integer program (``_CASE_FIXED``, each with its line in the report). Table 5.4 itself is
   qualitative; its published text is carried in ``case_study_challenges``.
6. *Interview codes.* Every district fact becomes an interview code with a positive number
   of coded passages split over the informants; the instance counts of Figure 4.2
   (384 / 161 / 41) are split over districts and informants by multinomial draws
   conditioned on the totals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from pdstats.errors import ConvergenceError
from pdstats.practices.codes import expr_atoms, parse_expr
from pdstats.practices.facts import year1_facts
from pdstats.practices.instrument import PRACTICES, ROLES, STAGES, stage_matrix

__all__ = ["reconstruct_year1", "RECONSTRUCTION_NOTE", "PCT_BINS", "ENROLLMENT_BINS"]

RECONSTRUCTION_NOTE = (
    "RECONSTRUCTION: synthetic district-level data built by pdstats.practices."
    "reconstruct_year1 to reproduce the published marginal counts of the 2005 year-1 "
    "report exactly; not the study's confidential data."
)

N_DISTRICTS = 28
#: Objective bonus for a stage-k cell together with stage k-1 of the same practice.
NESTING_BONUS = 0.6
#: Upper bin edges used by Figure 1.1 (values are drawn inside the printed integer bins).
PCT_BINS: dict[str, tuple[list[str], list[float]]] = {
    "pct_frl": (["0-25%", "26-50%", "51-75%", "76%+"], [25.5, 50.5, 75.5]),
    "pct_lep": (["0-10%", "11-20%", "21-30%", "31%+"], [10.5, 20.5, 30.5]),
    "pct_minority": (["0-25%", "26-50%", "51-75%", "76%+"], [25.5, 50.5, 75.5]),
}
ENROLLMENT_BINS: tuple[list[str], list[float]] = (
    ["<25K", "26K-50K", "51K-75K", "76K+"],
    [25_500, 50_500, 75_500],
)
_DRAW_RANGES = {
    "pct_frl": [(5, 25), (26, 50), (51, 75), (76, 95)],
    "pct_lep": [(1, 10), (11, 20), (21, 30), (31, 55)],
    "pct_minority": [(12, 25), (26, 50), (51, 75), (76, 97)],
}

_STATES = {
    "east": [("NY", "36"), ("PA", "42"), ("MD", "24"), ("NC", "37"), ("FL", "12"), ("GA", "13"),
             ("MA", "25"), ("VA", "51")],
    "central": [("TX", "48"), ("IL", "17"), ("OH", "39"), ("MI", "26"), ("MN", "27"),
                ("MO", "29"), ("TN", "47")],
    "west": [("CA", "06"), ("AZ", "04"), ("CO", "08"), ("WA", "53"), ("NV", "32"), ("NM", "35"),
             ("OR", "41")],
}

# Case-study districts (rows 0, 1, 2): bins of Figure 1.1 implied by Tables 5.1-5.3.
_CASES = {
    0: {"pct_frl": 2, "pct_lep": 0, "pct_minority": 3, "enrollment": 3, "region": "east",
        "locale": "city", "locale_description": "Large Central City, Eastern US"},
    1: {"pct_frl": 2, "pct_lep": 2, "pct_minority": 2, "enrollment": 3, "region": "west",
        "locale": "city", "locale_description": "Large Central City,Western US"},
    2: {"pct_frl": 2, "pct_lep": 2, "pct_minority": 3, "enrollment": 2, "region": "central",
        "locale": "suburb", "locale_description": "Urban Fringe of Large City, Central US"},
}
_CASE_THETA = {0: -1.0, 1: 0.3, 2: 1.2}
# values inside the case bins matching the prose of chapter 5
_CASE_VALUES = {
    0: {"pct_frl": (70, 75), "pct_lep": (2, 8), "pct_minority": (82, 95)},
    1: {"pct_frl": (55, 70), "pct_lep": (25.5, 29), "pct_minority": (60, 75)},
    2: {"pct_frl": (70, 75), "pct_lep": (23, 27), "pct_minority": (76, 90)},
}

# Structural constraints between codes (from the report's wording; see year1_facts notes).
_EXACTLY_ONE = [("board:elected", "board:appointed")]
_AT_MOST_ONE = [
    ("board_relationship:positive", "board_relationship:neutral", "board_relationship:problematic"),
    ("pd:in_curriculum", "pd:in_hr"),
    ("assess:state_compliance_only", "assess:state_results_used"),
    ("pd:data_training_basic", "pd:data_training_practice"),
    ("is:planning_new", "is:implementing_new"),
    ("finance:bargaining_limits", "hr:no_collective_bargaining"),
    ("assess:short_cycle", "assess:short_cycle_developing"),
]
_SUBSET = [  # (a, b): a implies b
    ("board:mayor_appointed", "board:appointed"),
    ("board:mayor_appointed", "board_relationship:positive"),
    ("leadership:removal_in_place", "leadership:principal_removal"),
    ("assess:district_wide_implemented", "assess:district_wide"),
    ("assess:district_wide_used", "assess:district_wide"),
    ("assess:short_cycle", "assess:benchmarking_in_place"),
    ("pd:data_training_teachers", "pd:data_training_principals"),
    ("pd:data_training_basic", "pd:data_training_principals"),
    ("pd:data_training_practice", "pd:data_training_principals"),
    ("is:dashboards_principals", "is:dashboards"),
    ("is:superintendent_desktop", "is:admin_desktop"),
    ("incentive:p4p_negotiating", "incentive:want_p4p"),
    ("pd:coaches_monitor_teachers", "pd:embedded_coaching"),
]
_SUM_EQUALS = [  # parts sum to the whole, district by district
    (("leadership:removal_formal_plan", "leadership:removal_informal"), "leadership:principal_removal"),
    (("leadership:dismissed", "leadership:resigned", "leadership:none_removed",
      "leadership:removal_unspecified"), "leadership:removal_in_place"),
    (("assess:benchmarking_in_place", "assess:benchmarking_planned"), "assess:benchmarking"),
]
# Case-study facts (chapter 5 and Table 5.4): (row, code, value); row k-1 = District k,
# with the line of the report's text each comes from.
_CASE_FIXED = [
    (0, "board_relationship:neutral", 1),  # T5.4 3755: contentious with previous supt., now working
    (1, "board_relationship:problematic", 1),  # T5.4 3797: dysfunctional and divided
    (2, "board_relationship:positive", 1),  # T5.4 3832: well-functioning
    (2, "hr:no_collective_bargaining", 1),  # T5.4 3852
    (0, "hr:no_collective_bargaining", 0),  # T5.4 3784: union at the table
    (1, "hr:no_collective_bargaining", 0),  # 3411: collective bargaining agreements
    (0, "finance:budget_challenges", 1),  # 3296: 90 percent of general fund in payroll
    (1, "finance:budget_challenges", 1),  # 3359: multi-year budget deficits
    (2, "finance:budget_challenges", 0),  # T5.4 3829: no significant financial barriers
    (2, "information_systems_s4", 0),  # T5.4 3840: relatively basic system
    (0, "is:antiquated", 1),  # T5.4 3770: current system is antiquated
    (1, "is:implementing_new", 1),  # 3443-3446: ERP live since fall 2003, not yet functional
    (0, "eval:teachers_achievement", 0),  # 3320, T5.4 3763
    (0, "eval:principals_achievement", 1),  # 3322: 60 percent of criteria
    (1, "eval:principals_achievement", 1),  # 3394-3395, T5.4 3801
    (0, "site_leadership_ownership_s3", 1),  # principals' evaluations use performance (3322)
    (1, "site_leadership_ownership_s3", 1),  # (3394-3395)
    (1, "assessments_s2", 1),  # 3407: district-wide diagnostics three times per year
    (1, "assess:district_wide", 1),  # 3407
    (1, "pd:data_training_principals", 1),  # 3431: training in using data
    (1, "pd:data_training_teachers", 1),  # 3431
    (1, "teacher_principal_support_s2", 1),  # 3428: peer coaching on site
    (2, "monitoring_goals_s3", 1),  # 3518-3520: site objectives tied to district objectives
    (2, "assessments_s3", 1),  # 3537-3540: common assessments each grading period, 4+ subjects
    (2, "assess:benchmarking_in_place", 1),  # 3541: science every nine weeks
    (2, "finance_s3", 1),  # 3561: sites establish their own budgets
    (2, "teacher_principal_support_s3", 1),  # 3582: PD targeted by performance data
    (2, "incentive:school_bonus", 1),  # 3597: each site receives a bonus
    (2, "hr:low_performing_incentives", 1),  # 3602: critical-needs pay
]
# Pairs of related facts that should tend to co-occur (objective bonus).
_SOFT_LINKS = [
    ("assessments_s2", "assess:district_wide"),
    ("assessments_s3", "assess:short_cycle"),
    ("teacher_principal_support_s2", "pd:embedded_coaching"),
    ("teacher_principal_support_s3", "data:pd_needs"),
    ("linking_assessment_instruction_s1", "pd:data_training_principals"),
    ("linking_assessment_instruction_s3", "pd:data_training_teachers"),
    ("linking_assessment_instruction_s4", "monitor:teacher_analysis"),
    ("site_leadership_ownership_s3", "eval:principals_achievement"),
    ("site_leadership_ownership_s3", "incentive:principal_bonus"),
    ("monitoring_goals_s3", "goal_setting:scorecards"),
    ("monitoring_goals_s4", "board_goals:monitor"),
    ("finance_s3", "finance:gradual_site_budget"),
    ("finance_s4", "monitor:cost_benefit"),
    ("information_systems_s1", "is:antiquated"),
    ("access_use_of_data_s4", "is:admin_desktop"),
    ("focus_on_improvement_s3", "monitor:teacher_analysis"),
    ("senior_admin_evaluations_s3", "incentive:admin_bonus"),
]
# Codes describing a weakness or a starting condition (negative loading on capacity).
_NEGATIVE = {
    "is:antiquated": -0.6, "board_relationship:problematic": -0.5,
    "assess:state_compliance_only": -0.8, "information_systems_s1": -0.8,
    "access_use_of_data_s1": -0.8, "finance:budget_challenges": 0.0,
    "hr:no_collective_bargaining": 0.0, "board:elected": 0.0, "board:appointed": 0.0,
    "leadership:none_removed": -0.3, "assess:benchmarking_planned": -0.3,
    "assess:short_cycle_developing": -0.3, "is:planning_new": -0.3,
}
# Probability that an informant voices an evidenced cell, by role and group.
_ROLE_P = {
    "superintendent": dict(goals=.8, resources=.5, assessment_instruction=.6,
                           professional_development=.6, learning_organization=.8),
    "chief_academic_officer": dict(goals=.7, resources=.4, assessment_instruction=.85,
                                   professional_development=.85, learning_organization=.6),
    "chief_financial_officer": dict(goals=.5, resources=.7, assessment_instruction=.25,
                                    professional_development=.25, learning_organization=.35),
    "chief_hr_officer": dict(goals=.5, resources=.6, assessment_instruction=.25,
                             professional_development=.6, learning_organization=.6),
}
_PRACTICE_ROLE_BOOST = {
    "finance": "chief_financial_officer", "human_resources": "chief_hr_officer",
    "senior_admin_evaluations": "superintendent", "assessments": "chief_academic_officer",
}
_CODE_ROLE_W = {
    "finance": (1, 1, 4, 1), "hr": (1, 1, 1, 4), "is": (1, 2, 3, 3), "board": (4, 1, 1, 1),
    "board_relationship": (4, 2, 1, 1), "board_goals": (4, 2, 1, 1), "goal": (3, 3, 1, 1),
    "goals": (3, 3, 2, 2), "goal_setting": (3, 3, 1, 1), "leadership": (3, 3, 1, 2),
    "assess": (2, 5, 1, 1), "pd": (2, 4, 1, 2), "org": (3, 2, 1, 1), "data": (2, 4, 1, 1),
    "monitor": (3, 3, 2, 2), "incentive": (2, 1, 2, 3), "eval": (2, 2, 1, 3),
    "data_use": (3, 3, 2, 2),
}


def _rank_bins(score: np.ndarray, counts: list[int]) -> np.ndarray:
    """Assign bins 0..k-1 to units by the rank of ``score`` so bin sizes equal ``counts``."""
    order = np.argsort(score, kind="stable")
    out = np.empty(len(score), dtype=int)
    edges = np.cumsum([0, *counts])
    for b in range(len(counts)):
        out[order[edges[b]:edges[b + 1]]] = b
    return out


def _demographics(rng: np.random.Generator, theta: np.ndarray) -> pd.DataFrame:
    facts = year1_facts()
    fig = facts[(facts["figure"] == "Figure 1.1") & (facts["category"] != "Total")]
    counts = {code: grp["value"].astype(int).tolist() for code, grp in fig.groupby("code", sort=False)}
    corr = np.array([[1.0, 0.3, 0.6, 0.1], [0.3, 1.0, 0.35, 0.25], [0.6, 0.35, 1.0, 0.2],
                     [0.1, 0.25, 0.2, 1.0]])
    cols = ["pct_frl", "pct_lep", "pct_minority", "enrollment"]
    z = rng.multivariate_normal(np.zeros(4), corr, size=N_DISTRICTS)
    z[:, 3] += 0.3 * theta  # larger districts a little further along
    free = np.array([i for i in range(N_DISTRICTS) if i not in _CASES])
    bins = {}
    for j, col in enumerate(cols):
        cnt = list(counts[col])
        for case in _CASES.values():
            cnt[case[col]] -= 1
        b = np.empty(N_DISTRICTS, dtype=int)
        for i, case in _CASES.items():
            b[i] = case[col]
        b[free] = _rank_bins(z[free, j], cnt)
        bins[col] = b
    out = {}
    for col in cols[:3]:
        vals = np.empty(N_DISTRICTS)
        for i in range(N_DISTRICTS):
            lo, hi = _CASE_VALUES.get(i, {}).get(col, _DRAW_RANGES[col][bins[col][i]])
            vals[i] = np.round(rng.uniform(lo, hi), 1)
        out[col] = vals
    enr = np.empty(N_DISTRICTS, dtype=np.int64)
    for i in range(N_DISTRICTS):
        b = bins["enrollment"][i]
        if b == 0:
            e = rng.uniform(6_000, 24_500)
        elif b == 1:
            e = rng.uniform(26_000, 50_000)
        elif b == 2:
            e = rng.uniform(51_000, 75_000) if i != 2 else rng.uniform(56_000, 72_000)
        else:
            e = np.exp(rng.uniform(np.log(78_000), np.log(420_000)))
        enr[i] = int(round(e))
    out["enrollment"] = enr
    return pd.DataFrame(out)


def _states(rng: np.random.Generator) -> tuple[list[str], list[str], list[str]]:
    regions = ["east", "central", "west"]
    region = [_CASES[i]["region"] if i in _CASES else regions[rng.integers(3)]
              for i in range(N_DISTRICTS)]
    states, ids, used = [], [], set()
    for reg in region:
        st, fips = _STATES[reg][rng.integers(len(_STATES[reg]))]
        while True:
            did = fips + f"{rng.integers(0, 100_000):05d}"
            if did not in used:
                used.add(did)
                break
        states.append(st)
        ids.append(did)
    return states, ids, region


class _Model:
    """Tiny builder for a 0/1 integer program."""

    def __init__(self) -> None:
        self.c: list[float] = []
        self.rows: list[dict[int, float]] = []
        self.lb: list[float] = []
        self.ub: list[float] = []

    def var(self, cost: float = 0.0) -> int:
        self.c.append(cost)
        return len(self.c) - 1

    def add(self, coefs: dict[int, float], lo: float, hi: float) -> None:
        self.rows.append(coefs)
        self.lb.append(lo)
        self.ub.append(hi)

    def solve(self) -> np.ndarray:
        n = len(self.c)
        a = sp.lil_array((len(self.rows), n))
        for r, coefs in enumerate(self.rows):
            for j, v in coefs.items():
                a[r, j] = a[r, j] + v
        res = milp(
            c=-np.asarray(self.c),  # maximize
            constraints=LinearConstraint(a.tocsr(), self.lb, self.ub),
            integrality=np.ones(n),
            bounds=Bounds(0, 1),
            options={"mip_rel_gap": 1e-4, "presolve": True},
        )
        if res.x is None or res.status not in (0,):
            raise ConvergenceError(
                f"reconstruct_year1: the integer program found no solution ({res.message})"
            )
        return np.round(res.x).astype(int)


def _binary_matrix(rng: np.random.Generator, theta: np.ndarray) -> pd.DataFrame:
    facts = year1_facts()
    dfacts = facts[facts["agg"] == "districts"]
    sm = stage_matrix()
    cells = sm["item"].tolist()
    codes = expr_atoms(dfacts["code"].tolist())
    cols = cells + codes
    m = _Model()
    x = np.empty((N_DISTRICTS, len(cols)), dtype=int)
    for j, col in enumerate(cols):
        if col in _NEGATIVE:
            load = _NEGATIVE[col]
        elif col in cells:
            load = 0.4 + 0.25 * int(col[-1])
        else:
            load = 0.8
        for i in range(N_DISTRICTS):
            x[i, j] = m.var(load * theta[i] + rng.gumbel())
    ix = {c: j for j, c in enumerate(cols)}

    def lit(i: int, atom: str, positive: bool) -> tuple[dict[int, float], float]:
        # literal as (coefs, constant)
        return ({x[i, ix[atom]]: 1.0}, 0.0) if positive else ({x[i, ix[atom]]: -1.0}, 1.0)

    # Table 6.1 cell counts
    for item, n in zip(sm["item"], sm["n_districts"], strict=False):
        m.add({x[i, ix[item]]: 1.0 for i in range(N_DISTRICTS)}, n, n)
    # every district count of the report
    for expr, v in zip(dfacts["code"], dfacts["value"], strict=False):
        terms = parse_expr(expr)
        if len(terms) == 1 and terms[0][1]:
            m.add({x[i, ix[terms[0][0]]]: 1.0 for i in range(N_DISTRICTS)}, v, v)
            continue
        ys = []
        for i in range(N_DISTRICTS):
            y = m.var(0.0)
            ys.append(y)
            total_const = 0.0
            big: dict[int, float] = {y: 1.0}
            for atom, positive in terms:
                coefs, const = lit(i, atom, positive)
                # y <= literal
                row = {y: 1.0}
                for k, c in coefs.items():
                    row[k] = row.get(k, 0.0) - c
                m.add(row, -np.inf, const)
                for k, c in coefs.items():
                    big[k] = big.get(k, 0.0) - c
                total_const += const
            # y >= sum(literals) - (k - 1)
            m.add(big, total_const - (len(terms) - 1), np.inf)
        m.add({y: 1.0 for y in ys}, v, v)
    for i in range(N_DISTRICTS):
        for group in _EXACTLY_ONE:
            m.add({x[i, ix[c]]: 1.0 for c in group}, 1, 1)
        for group in _AT_MOST_ONE:
            m.add({x[i, ix[c]]: 1.0 for c in group}, 0, 1)
        for a, b in _SUBSET:
            m.add({x[i, ix[a]]: 1.0, x[i, ix[b]]: -1.0}, -np.inf, 0)
        for parts, whole in _SUM_EQUALS:
            row = {x[i, ix[p]]: 1.0 for p in parts}
            row[x[i, ix[whole]]] = -1.0
            m.add(row, 0, 0)
    for i, code, v in _CASE_FIXED:
        m.add({x[i, ix[code]]: 1.0}, v, v)
    # bonuses: stage k with stage k-1 of the same practice; related facts together
    pairs = [(f"{p}_s{k}", f"{p}_s{k - 1}", NESTING_BONUS) for p in PRACTICES for k in STAGES[1:]]
    pairs += [(a, b, 1.0) for a, b in _SOFT_LINKS]
    for a, b, w in pairs:
        for i in range(N_DISTRICTS):
            z = m.var(w)
            m.add({z: 1.0, x[i, ix[a]]: -1.0}, -np.inf, 0)
            m.add({z: 1.0, x[i, ix[b]]: -1.0}, -np.inf, 0)
    sol = m.solve()
    return pd.DataFrame(sol[x], columns=cols)


def _split(rng: np.random.Generator, total: int, weights: np.ndarray) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.multinomial(total, p / p.sum())


def reconstruct_year1(random_state: int = 0, year: int = 2004) -> dict[str, pd.DataFrame]:
    """Build a 28-district year-1 data set reproducing every published count exactly.

    Parameters
    ----------
    random_state : int, default 0
        Seed of every random draw; the same seed gives the same data on any machine.
    year : int, default 2004
        Study year written to the tables (interviews in the 2003-04 school year; the
        report is dated April 2005).

    Returns
    -------
    dict of str to pandas.DataFrame
        Data-dictionary tables ``districts``, ``practice_ratings`` (consensus rows with
        ``informant_role == "consensus"`` plus one row per informant and cell) and
        ``interview_codes``, and the extra table ``district_profiles`` (case-study
        number, organisation type, source of demographics, region, schools, budget, and
        the simulated ``latent_capacity``) and ``case_study_challenges`` (the published
        text of Table 5.4, attached to the three case-study districts). Every frame carries
        ``attrs["reconstruction"]`` = :data:`RECONSTRUCTION_NOTE`.

    Notes
    -----
    This is a **reconstruction**: the method (rank-based binning of correlated scores,
    then a perturbed integer program with hard constraints for every published count) is
    described in the module docstring of :mod:`pdstats.practices.reconstruct`.

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1(random_state=0)
    >>> cons = data["practice_ratings"].query("informant_role == 'consensus'")
    >>> int(cons.query("practice == 'finance' and stage == 4")["evidence"].sum())
    4
    """
    rng = np.random.default_rng(random_state)
    theta = rng.normal(size=N_DISTRICTS)
    for i, t in _CASE_THETA.items():
        theta[i] = t
    demo = _demographics(rng, theta)
    states, ids, region = _states(rng)

    # organisation types: the two smallest (<25K) entities are the CMO and the EMO
    small = np.flatnonzero(demo["enrollment"].to_numpy() <= ENROLLMENT_BINS[1][0])
    org = np.array(["school district"] * N_DISTRICTS, dtype=object)
    org[small[0]] = "charter management organization"
    org[small[1]] = "education management organization"
    source = np.array(["NCES 2002-2003"] * N_DISTRICTS, dtype=object)
    others = [i for i in range(N_DISTRICTS) if i not in _CASES and i not in small[:2]]
    source[list(small[:2])] = "district records 2002-2003"
    source[rng.choice(others)] = "district records 2002-2003"

    districts = pd.DataFrame(
        {
            "district_id": ids,
            "state": states,
            "district_name": [
                f"Case-study District {i + 1}" if i in _CASES else f"Year-1 district {i + 1:02d}"
                for i in range(N_DISTRICTS)
            ],
            "enrollment": demo["enrollment"].astype("int64"),
            "pct_frl": demo["pct_frl"],
            "pct_lep": demo["pct_lep"],
            "pct_minority": demo["pct_minority"],
            "locale": [_CASES[i]["locale"] if i in _CASES else "city" for i in range(N_DISTRICTS)],
            "studied": True,
        }
    )
    enr = districts["enrollment"].to_numpy()
    n_schools = np.maximum(3, np.round(enr / rng.uniform(550, 800, N_DISTRICTS))).astype(int)
    budget = np.round(enr * rng.uniform(8_000, 11_000, N_DISTRICTS) / 1e6, 1)
    n_schools[:2] = np.maximum(n_schools[:2], 76 + rng.integers(0, 60, 2))
    budget[:2] = np.maximum(budget[:2], 700 + rng.uniform(5, 300, 2).round(1))
    n_schools[2] = int(np.clip(n_schools[2], 40, 75))
    budget[2] = max(budget[2], 400 + round(rng.uniform(5, 150), 1))
    profiles = pd.DataFrame(
        {
            "district_id": ids,
            "case_study": [f"District {i + 1}" if i in _CASES else "" for i in range(N_DISTRICTS)],
            "organization_type": org,
            "demographics_source": source,
            "region": region,
            "locale_description": [_CASES[i]["locale_description"] if i in _CASES else ""
                                   for i in range(N_DISTRICTS)],
            "n_schools": n_schools.astype("int64"),
            "budget_musd": budget,
            "latent_capacity": theta,
        }
    )

    mat = _binary_matrix(rng, theta)
    sm = stage_matrix()
    group_of = dict(zip(sm["item"], sm["group"].astype(str), strict=False))
    practice_of = dict(zip(sm["item"], sm["practice"].astype(str), strict=False))
    stage_of = dict(zip(sm["item"], sm["stage"], strict=False))
    rows = []
    for i, did in enumerate(ids):
        for item in sm["item"]:
            ev = int(mat.at[i, item])
            prac = practice_of[item]
            base = dict(district_id=did, year=year, practice=prac, stage=int(stage_of[item]),
                        rating=np.nan, source="interview")
            rows.append({**base, "evidence": ev, "informant_role": "consensus"})
            p = np.array([_ROLE_P[r][group_of[item]] for r in ROLES])
            if prac in _PRACTICE_ROLE_BOOST:
                p[ROLES.index(_PRACTICE_ROLE_BOOST[prac])] = 0.9
            said = (rng.random(4) < p).astype(int) if ev else np.zeros(4, dtype=int)
            if ev and said.sum() == 0:
                said[rng.choice(4, p=p / p.sum())] = 1
            for r, s in zip(ROLES, said, strict=False):
                rows.append({**base, "evidence": int(s), "informant_role": r})
    ratings = pd.DataFrame(rows)[
        ["district_id", "year", "practice", "stage", "evidence", "rating", "informant_role", "source"]
    ]
    ratings["stage"] = ratings["stage"].astype("int64")
    ratings["evidence"] = ratings["evidence"].astype("int64")
    ratings["rating"] = ratings["rating"].astype("float64")

    code_rows = []
    code_cols = [c for c in mat.columns if c not in set(sm["item"])]
    for i, did in enumerate(ids):
        for code in code_cols:
            if not mat.at[i, code]:
                continue
            fam = code.split(":")[0]
            n = 1 + rng.poisson(1.5)
            for r, c in zip(ROLES, _split(rng, n, np.array(_CODE_ROLE_W[fam], float)), strict=False):
                if c:
                    code_rows.append((did, year, r, code, int(c)))
    # Figure 4.2 instance totals
    facts = year1_facts()
    inst = facts[facts["agg"] == "instances"]
    slopes = {"data_use:decision_making": 0.3, "data_use:monitoring": 0.5, "data_use:action": 0.8}
    for code, total in zip(inst["code"], inst["value"].astype(int), strict=False):
        w = np.exp(slopes.get(code, 0.4) * theta)
        if code == "data_use:decision_making":  # every district gave examples
            per = 1 + _split(rng, total - N_DISTRICTS, w)
        else:
            per = _split(rng, total, w)
        for did, k in zip(ids, per, strict=False):
            for r, c in zip(ROLES, _split(rng, int(k), np.array(_CODE_ROLE_W["data_use"], float)), strict=False):
                if c:
                    code_rows.append((did, year, r, code, int(c)))
    codes = pd.DataFrame(code_rows, columns=["district_id", "year", "informant_role", "code", "count"])
    codes["count"] = codes["count"].astype("int64")
    t54 = facts[facts["figure"] == "Table 5.4"]
    case_ids = {f"District {i + 1}": ids[i] for i in _CASES}
    challenges = pd.DataFrame(
        {
            "district_id": t54["category"].map(case_ids).to_numpy(),
            "case_study": t54["category"].to_numpy(),
            "challenge": t54["measure"].to_numpy(),
            "description": t54["code"].to_numpy(),
        }
    )
    out = {
        "districts": districts,
        "practice_ratings": ratings,
        "interview_codes": codes,
        "district_profiles": profiles,
        "case_study_challenges": challenges,
    }
    for df in out.values():
        df.attrs["reconstruction"] = RECONSTRUCTION_NOTE
    return out
