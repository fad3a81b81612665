"""Oracle check of the district model: what do the worlds' *true* district means carry?

For each simulated world (practice_effect = 2), regress the true district cohort growth
(``truth.units`` naep means, grade g in year t minus grade g-1 in year t-1) on the true
latent practice index P with the district model's cell fixed effects and p4p (OLS), and put
it beside the linked growth on true P and the fitted models: the district model on cohort
growth (``growth="cohort"``, what an aggregate-only store allows) and on matched growth (the
students in the district in both years, the default with student tables), and the
value-added model. If the oracle slope averages below ``practice_effect``, the shortfall is in
what district means carry in the simulation (composition), not in the estimator; the
matched-growth district model should recover ``practice_effect``.

Usage::

    python benchmarks/linkage_oracle.py [--worlds 8] [--seed 777]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

import pdstats as pds
from pdstats._parallel import piece_seeds
from pdstats.linkage.validation import world_builder


def one_world(seed: int) -> dict:
    w = world_builder(2.0)(np.random.default_rng(seed))
    p = pds.linkage.analysis_panel(w, growth="cohort")
    matched = pds.linkage.analysis_panel(w, growth="matched")
    u = w.truth.units.query('unit_type == "district" and subgroup == "all" and subject == "math"')
    u = u[["unit_id", "year", "grade", "naep_mean"]].rename(columns={"unit_id": "district_id"})
    u = u.astype({"district_id": str, "year": int, "grade": int})
    prior = u.assign(year=u["year"] + 1, grade=u["grade"] + 1).rename(columns={"naep_mean": "t0"})
    tg = p.data.merge(u.rename(columns={"naep_mean": "t1"}), on=["district_id", "year", "grade"])
    tg = tg.merge(prior, on=["district_id", "year", "grade"])
    tg["true_growth"] = tg["t1"] - tg["t0"]
    tp = w.truth.practice_index.astype({"district_id": str, "year": int}).rename(columns={"index": "P"})
    tg = tg.merge(tp[["district_id", "year", "P"]], on=["district_id", "year"])
    return {"seed": seed,
            "oracle_true_growth_on_P": smf.ols("true_growth ~ C(cell) + P + p4p", tg).fit().params["P"],
            "linked_growth_on_P": smf.ols("growth ~ C(cell) + P + p4p", tg).fit().params["P"],
            "district_model_cohort": pds.linkage.practice_growth(p, model="district",
                                                                 progress=False).effect()["estimate"],
            "district_model_matched": pds.linkage.practice_growth(matched, model="district",
                                                                  progress=False).effect()["estimate"],
            "value_added_model": pds.linkage.practice_growth(matched, model="value_added",
                                                             progress=False).effect()["estimate"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=8)
    ap.add_argument("--seed", type=int, default=777)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    rows = [one_world(s) for s in piece_seeds(a.seed, a.worlds)]
    t = pd.DataFrame(rows)
    print(t.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    s = t.drop(columns="seed").agg(["mean", "sem"]).T
    print(s.to_string(float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
