"""Write notebooks/06_practices_and_growth.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook

NB = Notebook()
md, code = NB.md, NB.code

md("""# 06 - Do performance-driven practices predict achievement growth?

The question the whole study exists for: do districts further along the stage matrix raise
achievement faster? `pds.linkage` joins the stages of the study - achievement linked to the
NAEP scale with standard errors (`pds.harmonize`), practice scores with standard errors
(`pds.practices`), growth and value-added models (`pds.lmm`, `pds.vam`) - and estimates the
link four ways, with the practice scores' measurement error corrected, few-cluster inference
by district, and the design's power.

The data here are the **default simulated study world** (`make reproduce` writes it to
`output/simulated_study.duckdb`), where the truth is known: the latent practice index raises
every student's yearly growth by `practice_effect` = 2 NAEP points per SD of the index
(`src/pdstats/simulate/README.md`, section 6). No student-level rows are printed.""")
code("""import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats

import pdstats as pds
from pdstats.cli import build_simulated_store
from pdstats.report import output_dir, record_numbers, save_figure

sns.set_theme(style="whitegrid", context="notebook")
warnings.simplefilter("once", pds.EstimationWarning)
TRUTH = pds.simulate.DEFAULTS["practice_effect"]   # points of yearly growth per SD of the latent index
path = output_dir() / "simulated_study.duckdb"
if not path.exists():                               # make reproduce builds it first; a bare run builds it here
    build_simulated_store(output_dir())
store = pds.Study(path)""")
md("""## The analysis panel

Matched growth of every district on the NAEP-linked scale - the mean yearly gain (grade g-1
in year t-1 to grade g in year t) of the students enrolled in the district in both years,
their scores carried to the linked scale by the same state-grade-year line as the district
means - with its sampling variance, joined to the district-year practice scores and
covariates. (Cohort growth of district means, the only growth an aggregate-only store
allows, is diluted by mobility: entrants carry none of the district's past practice effect;
`benchmarks/linkage_oracle.py` measures the dilution.) Every join is checked: the comparison districts have achievement but no
interviews, and are listed by id.""")
code("""panel = pds.linkage.analysis_panel(store, subject="math")
print(panel.sample_log)
display(panel.mismatches)
ax = panel.plot()
save_figure(ax, "linkage_panel_scatter"); plt.show()""")
md("""## Four models, one result class

* **district** - V-known meta-regression of district-year-grade growth on the practice
  index: state x year x grade fixed effects (they absorb the linking errors shared within a
  state, grade and year), district and district-by-year random effects, CR2 by district;
* **student** - students' yearly gains on the linked scale in schools, district-clustered CR2;
* **within** - district fixed effects: change in practice against change in growth;
* **value_added** - unshrunk district-year value-added (`pds.vam`, `method="ols"`) with its
  sampling variances, in the same meta-regression.

Every effect is corrected for measurement error in the practice index by its reliability
*conditional on the model's other covariates*, and reported per SD of the error-free index
among year-1 districts, in NAEP points of yearly growth.""")
code("""fits = {m: pds.linkage.practice_growth(panel, model=m, progress=False) for m in pds.linkage.MODELS}
side = pd.DataFrame({m: f.effect()[["estimate", "std_error", "df", "ci_lower", "ci_upper", "p_value"]]
                     for m, f in fits.items()}).T
side["flag"] = [f.effect()["flag"] for f in fits.values()]
side["covers_truth"] = (side["ci_lower"] <= TRUTH) & (TRUTH <= side["ci_upper"])
display(side.round(3))
print(fits["district"].summary())""")
code("""eff = side.reset_index().rename(columns={"index": "term"})
ax = pds.figures.estimates.coefplot(eff, title="Practice-index effect by model (95% CI), points per SD")
ax.axvline(TRUTH, color="C3", lw=1.2, label=f"truth ({TRUTH:g})")
ax.legend(loc="lower right")
save_figure(ax, "linkage_models_coefplot"); plt.show()""")
md("""## Naive versus corrected: the attenuation

The naive slope is attenuated by the reliability of the practice index conditional on the
other covariates (here the cell fixed effects and pay-for-performance), in the metric of the
model's own fit. The PCM index of 48 stage cells is reliable between districts, but the
models' random intercepts (district, or school) compare a district partly with itself over
the years, where the index's change is mostly measurement error, so the attenuation is
larger than the marginal reliability suggests. *Within* districts alone, the change over two
years is almost all error (conditional reliability near or below zero), and the within model
is descriptive only.""")
code("""att = pd.concat({m: f.attenuation.set_index("term").loc["practice_index"] for m, f in fits.items()}, axis=1).T
att["naive_over_corrected"] = att["naive"] / att["corrected"]
display(att.round(3))""")
md("""## The 12 practices and the 5 groups

One district model per score (the count of evidenced stages of a practice, or the sum over
a group's practices), each corrected by its own conditional reliability, with Holm and
Benjamini-Hochberg p-values across the 12 practices. In this world every practice is driven
by the same latent index, so all should point the same way; what differs is their reliability.""")
code("""allfit = pds.linkage.practice_growth(panel, model="district", scores="all", progress=False)
display(allfit.estimates.round(3))
ax = allfit.plot(kind="practice")
ax.axvline(TRUTH, color="C3", lw=1)
save_figure(ax, "linkage_practices_coefplot"); plt.show()""")
md("""A single practice's count of evidenced stages is far less reliable than the 48-cell index
(conditional reliability about 0.7), so here the attenuation is visible: the naive slopes sit
well below the corrected ones, by the factor of each practice's conditional reliability.""")
code("""pa = allfit.attenuation.query("kind == 'practice'").set_index("term")
display(pa[["naive", "corrected", "conditional_reliability", "marginal_reliability"]].round(3))
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.scatter(pa["naive"], pa["corrected"], c=pa["conditional_reliability"], cmap="crest")
lim = [0, max(pa["corrected"].max(), TRUTH) * 1.1]
ax.plot(lim, lim, color="grey", lw=0.8, ls=":")
ax.axhline(TRUTH, color="C3", lw=1)
ax.set(xlim=lim, ylim=lim, xlabel="naive (points per SD)", ylabel="corrected (points per SD)",
       title="12 practices: naive vs corrected effects")
save_figure(fig, "linkage_naive_vs_corrected"); plt.show()""")
md("""## Few-cluster inference

28 districts is a few-cluster problem. Every model uses CR2 standard errors with
Bell-McCaffrey degrees of freedom, clustered by district: deterministic, and validated for
size and coverage over simulated worlds (`src/pdstats/linkage/README.md`). The wild cluster
bootstrap is not offered for these models: it has not been validated here, and its interval
would have to carry the measurement-error correction.""")
md("""## Stages as a dose

Did districts that moved up more stages between the first and last study year see their
growth rise more? One row per district: the change in yearly growth against the number of
stages gained over the 12 practices (state fixed effects, HC2 with Bell-McCaffrey df).""")
code("""dose = pds.linkage.stage_transitions(panel)
display(dose.estimates.round(3))
ax = dose.plot()
save_figure(ax, "linkage_dose_groups"); plt.show()""")
md("""## Power: what 28 districts can and cannot detect

Analytically (`pds.power`, three levels: students in district-years in districts, a
district-level predictor with reliability 0.95), and from the fitted district model's own
standard error and df (the MDES implied by this world's design at 80% power).""")
code("""tab = pds.linkage.mdes_table((10, 20, 28, 40, 60, 100), effect_points=TRUTH)
display(tab.round(3))
e = fits["district"].effect()
mult = stats.t.ppf(0.975, e["df"]) + stats.t.ppf(0.8, e["df"])
mdes_fitted = mult * e["std_error"]
print(f"MDES implied by the fitted district model: {mdes_fitted:.2f} points per SD "
      f"(SE {e['std_error']:.2f}, BM df {e['df']:.1f})")
res = pds.linkage.design_power(TRUTH / pds.linkage.power.GROWTH_SD, n_districts=28)
ax = res.plot(over="n_clusters", values=np.arange(6, 101, 2))
ax.set_title(f"Power to detect {TRUTH:g} points per SD (analytic)", loc="left")
save_figure(ax, "linkage_power_curve"); plt.show()""")
code("""d = fits["district"].effect()
record_numbers("linkage", {
    "n_districts": int(fits["district"].n_clusters),
    "truth": float(TRUTH),
    "district_est": round(float(d["estimate"]), 2), "district_se": round(float(d["std_error"]), 2),
    "district_df": round(float(d["df"]), 1),
    "district_ci_lower": round(float(d["ci_lower"]), 2), "district_ci_upper": round(float(d["ci_upper"]), 2),
    "student_est": round(float(side.loc["student", "estimate"]), 2),
    "student_se": round(float(side.loc["student", "std_error"]), 2),
    "va_est": round(float(side.loc["value_added", "estimate"]), 2),
    "va_se": round(float(side.loc["value_added", "std_error"]), 2),
    "within_est": round(float(side.loc["within", "estimate"]), 2),
    "within_reliability": round(float(att.loc["within", "conditional_reliability"]), 2),
    "district_reliability": round(float(att.loc["district", "conditional_reliability"]), 3),
    "district_naive": round(float(att.loc["district", "naive"]), 2),
    "effect_student_sd": round(float(att.loc["district", "estimate_student_sd"]), 3),
    "student_sd": round(float(fits["district"].student_sd), 1),
    "practice_reliability_mean": round(float(pa["conditional_reliability"].mean()), 2),
    "practice_naive_mean": round(float(pa["naive"].mean()), 2),
    "practice_corrected_mean": round(float(pa["corrected"].mean()), 2),
    "n_practices_bh_05": int((allfit.estimates["p_bh"] < 0.05).sum()),
    "n_practices_holm_05": int((allfit.estimates["p_holm"] < 0.05).sum()),
    "district_p": round(float(d["p_value"]), 3),
    "dose_slope": round(float(dose.estimates.set_index("term").loc["dose", "estimate"]), 2),
    "dose_p": round(float(dose.estimates.set_index("term").loc["dose", "p_value"]), 2),
    "mdes_analytic_28": round(float(tab.set_index("n_districts").loc[28, "mdes_points"]), 2),
    "mdes_fitted_28": round(float(mdes_fitted), 2),
})
store.close()""")
NB.write("notebooks/06_practices_and_growth.ipynb")
