"""What a state publishes, what NAEP reports, and the true unit means behind them.

For each state x year the tested students are summarised by unit (school, district,
state) x grade x subject x subgroup as the state publishes them: ``n_tested`` and the
mean/SD of scale scores (``publishes`` = "means"), the number of students at each
proficiency level (``"levels"``, with the state's own number of levels) or both. A cell
with fewer tested students than the state's ``suppression_threshold`` is suppressed
whole: ``suppressed = True``, ``n_tested`` kept, results blank (as most state report
cards do). NAEP state rows (grades 4 and 8, NAEP years) are the true mean/SD of the
state's enrolled students plus normal sampling error with the stated SE; the national
row is the reference population of the scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pdstats.simulate import scales
from pdstats.simulate.achievement import RACES, StateYear
from pdstats.simulate.world import World

__all__ = ["SUBGROUPS"]

#: Subgroups published for every unit (mask over the compact ``tested`` frame).
SUBGROUPS: dict[str, object] = {
    "all": lambda f: np.ones(len(f), bool),
    "black": lambda f: f["race"].to_numpy() == RACES.index("black"),
    "hispanic": lambda f: f["race"].to_numpy() == RACES.index("hispanic"),
    "white": lambda f: f["race"].to_numpy() == RACES.index("white"),
    "frl": lambda f: f["frl"].to_numpy(),
    "not_frl": lambda f: ~f["frl"].to_numpy(),
    "lep": lambda f: f["lep"].to_numpy(),
    "female": lambda f: f["female"].to_numpy(),
    "male": lambda f: ~f["female"].to_numpy(),
}
_UNITS = (("school", "school"), ("district", "district"), ("state", None))


def _unit_ids(world: World, unit_type: str, idx: np.ndarray, state: str) -> np.ndarray:
    if unit_type == "school":
        return world.schools["school_id"].to_numpy(dtype=object)[idx]
    if unit_type == "district":
        return world.districts["district_id"].to_numpy(dtype=object)[idx]
    return np.full(len(idx), state, dtype=object)


def _group_stats(keys: list[np.ndarray], x: np.ndarray, ddof: int = 1) -> tuple[list[np.ndarray], dict]:
    """Group by integer key columns: (unique key columns, {n, mean, sd, inverse})."""
    widths = [int(k.max()) + 1 for k in keys]
    code = np.zeros(len(x), np.int64)
    for k, w in zip(keys, widths, strict=True):
        code = code * w + k
    ucode, inv = np.unique(code, return_inverse=True)
    cols = []
    for w in reversed(widths):
        cols.append(ucode % w)
        ucode = ucode // w
    cols.reverse()
    n = np.bincount(inv).astype(np.int64)
    mean = np.bincount(inv, weights=x) / n
    ss = np.bincount(inv, weights=(x - mean[inv]) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(ss / (n - ddof))
    return cols, {"n": n, "mean": mean, "sd": sd, "inv": inv}


def publish(world: World, sy: StateYear) -> pd.DataFrame:
    """``state_assessment_aggregates`` rows of one state x year."""
    st = world.states.set_index("state").loc[sy.state]
    n_levels, threshold, pub = int(st["n_levels"]), int(st["suppression_threshold"]), st["publishes"]
    f = sy.tested[sy.tested["present"].to_numpy()]
    out = []
    for sub, mask_fn in SUBGROUPS.items():
        g = f[mask_fn(f)]
        if g.empty:
            continue
        for unit_type, col in _UNITS:
            unit = g[col].to_numpy() if col else np.zeros(len(g), np.int64)
            (u, gr, sj), s = _group_stats([unit, g["grade"].to_numpy(), g["subject"].to_numpy()],
                                          g["score"].to_numpy(dtype=float))  # fmt: skip
            lev = g["level"].to_numpy()
            counts = np.bincount(s["inv"] * 7 + lev, minlength=len(u) * 7).reshape(len(u), 7)
            frame = pd.DataFrame({"unit_type": unit_type, "unit_id": _unit_ids(world, unit_type, u, sy.state),
                                  "grade": gr, "subject": sj, "subgroup": sub, "size": s["n"],
                                  "mean": s["mean"], "std": s["sd"]})  # fmt: skip
            for k in range(1, 7):
                frame[f"level_{k}"] = counts[:, k]
            out.append(frame)
    df = pd.concat(out, ignore_index=True)
    res = pd.DataFrame({
        "state": sy.state, "unit_type": df["unit_type"], "unit_id": df["unit_id"], "year": sy.year,
        "grade": df["grade"], "subject": np.array(scales.SUBJECTS, dtype=object)[df["subject"]],
        "subgroup": df["subgroup"], "n_tested": df["size"].astype(np.int64)})  # fmt: skip
    # cells below the threshold, and one-student cells (no SD), are suppressed whole
    sup = ((df["size"] < threshold) | (df["size"] < 2)).to_numpy()
    means = pub in ("means", "both")
    levels = pub in ("levels", "both")
    res["mean_scale"] = np.where(means & ~sup, df["mean"].round(2), np.nan)
    res["sd_scale"] = np.where(means & ~sup, df["std"].round(2), np.nan)
    show = levels & ~sup
    res["n_levels"] = pd.Series(np.full(len(df), n_levels), dtype="Int64").where(show)
    for k in range(1, 7):
        keep = show & (k <= n_levels)
        res[f"level_{k}"] = df[f"level_{k}"].astype("Int64").where(keep)
    res["suppressed"] = sup
    return res


def state_truth(sy: StateYear) -> pd.DataFrame:
    """True mean/SD (ddof 0) of all enrolled students of the state by grade x subject."""
    f = sy.tested
    g = f.groupby(["grade", "subject"])["theta"]
    out = pd.DataFrame({"n_students": g.size(), "naep_mean": g.mean(), "naep_sd": g.std(ddof=0)}).reset_index()
    out["subject"] = np.array(scales.SUBJECTS, dtype=object)[out["subject"]]
    out.insert(0, "year", sy.year)
    out.insert(0, "state", sy.state)
    return out


def true_units(world: World, sy: StateYear, state_stats: pd.DataFrame) -> pd.DataFrame:
    """Truth ``units`` rows: true mean/SD (ddof 1) of tested students by school/district."""
    f = sy.tested[sy.tested["present"].to_numpy()]
    ss = state_stats.assign(subject=state_stats["subject"].map({s: i for i, s in enumerate(scales.SUBJECTS)}))
    ss = ss.set_index(["grade", "subject"])
    out = []
    for unit_type, col in _UNITS[:2]:
        g = f.groupby([col, "grade", "subject"])["theta"]
        s = pd.DataFrame({"n_students": g.size(), "naep_mean": g.mean(), "naep_sd": g.std(ddof=1)}).reset_index()
        m = ss.loc[list(zip(s["grade"], s["subject"], strict=True))]
        s["star_mean"] = (s["naep_mean"].to_numpy() - m["naep_mean"].to_numpy()) / m["naep_sd"].to_numpy()
        s["star_sd"] = s["naep_sd"].to_numpy() / m["naep_sd"].to_numpy()
        s["unit_type"] = unit_type
        s["unit_id"] = _unit_ids(world, unit_type, s[col].to_numpy(), sy.state)
        out.append(s.drop(columns=[col]))
    df = pd.concat(out, ignore_index=True)
    df["subject"] = np.array(scales.SUBJECTS, dtype=object)[df["subject"]]
    df["state"], df["year"], df["subgroup"] = sy.state, sy.year, "all"
    cols = ["state", "unit_type", "unit_id", "year", "grade", "subject", "subgroup", "n_students",
            "naep_mean", "naep_sd", "star_mean", "star_sd"]  # fmt: skip
    return df[cols]


def naep_rows(state_stats: pd.DataFrame, naep_years: tuple[int, ...], rng: np.random.Generator) -> pd.DataFrame:
    """``naep_state`` rows for one state x year: truth plus NAEP sampling error."""
    s = state_stats[state_stats["grade"].isin([4, 8]) & state_stats["year"].isin(naep_years)]
    return _with_sampling_error(s, ["state"], (0.9, 1.5), (0.5, 0.9), rng)


def tuda_rows(districts: pd.DataFrame, units: pd.DataFrame, n_per_state: int, naep_years: tuple[int, ...],
              rng: np.random.Generator) -> pd.DataFrame:
    """``naep_district`` rows: NAEP TUDA-like results of the largest studied districts of each state.

    The ``n_per_state`` studied districts with the largest enrollment in each state take
    part; their results are the true mean/SD of their tested students (``truth.units``)
    in grades 4 and 8 of the NAEP years, plus NAEP-like sampling error with standard
    errors uniform on 1.0-2.0 (mean) and 0.7-1.2 (SD) points (district samples are
    smaller than state samples).
    """
    d = districts[districts["studied"].to_numpy(bool)]
    d = d.sort_values(["state", "enrollment", "district_id"], ascending=[True, False, True], kind="stable")
    ids = d.groupby("state", sort=True).head(int(n_per_state))["district_id"]
    u = units[(units["unit_type"] == "district") & (units["subgroup"] == "all") & units["unit_id"].isin(ids)
              & units["grade"].isin([4, 8]) & units["year"].isin(naep_years)]
    u = u.sort_values(["unit_id", "year", "grade", "subject"], kind="stable").rename(columns={"unit_id": "district_id"})
    return _with_sampling_error(u, ["district_id"], (1.0, 2.0), (0.7, 1.2), rng)


def _with_sampling_error(s: pd.DataFrame, ids: list[str], mean_se_range: tuple[float, float],
                         sd_se_range: tuple[float, float], rng: np.random.Generator) -> pd.DataFrame:
    """Published NAEP-like rows: the true ``naep_mean``/``naep_sd`` plus normal sampling error."""
    n = len(s)
    mean_se = np.round(rng.uniform(*mean_se_range, n), 2)
    sd_se = np.round(rng.uniform(*sd_se_range, n), 2)
    return pd.DataFrame({
        **{c: s[c].to_numpy() for c in ids}, "year": s["year"].to_numpy(), "grade": s["grade"].to_numpy(),
        "subject": s["subject"].to_numpy(),
        "mean": np.round(s["naep_mean"].to_numpy() + mean_se * rng.standard_normal(n), 1),
        "sd": np.round(s["naep_sd"].to_numpy() + sd_se * rng.standard_normal(n), 1),
        "mean_se": mean_se, "sd_se": sd_se, "source": "simulated"})  # fmt: skip


def national_rows(tests: pd.DataFrame, naep_years: tuple[int, ...], rng: np.random.Generator) -> pd.DataFrame:
    """National rows: the scale's reference population (mean, SD) plus small sampling error."""
    ref = tests[tests["grade"].isin([4, 8]) & tests["year"].isin(naep_years)]
    ref = ref.drop_duplicates(["year", "grade", "subject"]).sort_values(["year", "grade", "subject"])
    n = len(ref)
    mean_se, sd_se = np.full(n, 0.3), np.full(n, 0.2)
    return pd.DataFrame({
        "state": "national", "year": ref["year"].to_numpy(), "grade": ref["grade"].to_numpy(),
        "subject": ref["subject"].to_numpy(),
        "mean": np.round(ref["ref_mean"].to_numpy() + mean_se * rng.standard_normal(n), 1),
        "sd": np.round(ref["ref_sd"].to_numpy() + sd_se * rng.standard_normal(n), 1),
        "mean_se": mean_se, "sd_se": sd_se, "source": "simulated"})  # fmt: skip
