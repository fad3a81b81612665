"""Write notebooks/02_harmonize_real_states.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook

NB = Notebook()
md, code = NB.md, NB.code

md("""# 02 - Harmonizing state test results: validation and two real states

States give different tests, so a district's score in one state says nothing about a district in
another. `pds.harmonize` puts them on one scale in two steps, following the Stanford Education Data
Archive (SEDA): (1) a heteroskedastic ordered probit (**HETOP**, Reardon, Shear, Castellano & Ho 2017)
turns the proficiency-level counts a state publishes into district means and SDs on the state's
student-standardized ("star") scale; (2) **linear linking** maps the star scale onto NAEP with the
state's NAEP mean and SD, adjusting for test reliability, with standard errors that add estimation
error, NAEP sampling error and a linking-error term.

Sections: (1) recovery on real students (Tennessee STAR), (2) recovery on a simulated study world with
known NAEP-scale truth, (3) California and Massachusetts districts on one scale, (4) a gap statistic
from level counts. Student-level rows are never printed.""")
code("""import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

import pdstats as pds
from pdstats.data.datasets import load_rdataset
from pdstats.report import record_numbers, save_figure

sns.set_theme(style="whitegrid", context="notebook")""")

md("""## 1. Recovery on real students: Tennessee STAR

`mlmRev/star` holds the math and reading scores of about 6,800 students per grade (K-3) in 75-79
schools. We coarsen each grade's scores into **4 levels at fixed cut scores** (the pooled 20th, 50th and
80th percentiles), keep only the school-level counts, fit HETOP, and compare the estimates with the
schools' true means and SDs computed from the students (on the same star scale). Reardon et al. (2017)
report correlations of about .97-.995 for means and .78-.85 for SDs on their data.""")
code("""star = load_rdataset("mlmRev", "star")
rows, fits = [], {}
for subject in ["math", "read"]:
    counts, truth = pds.harmonize.coarsen_scores(star, subject, "sch", by=["gr"])
    counts = counts.assign(state="TN", year=1990, subject=subject)
    for model in ["hetop", "phop", "homop"]:
        fit = pds.harmonize.hetop(counts, group="sch", by=["state", "year", "gr", "subject"],
                                  model=model, min_n=1, progress=False)
        fits[subject, model] = (fit, truth)
        m = pds.harmonize.recovery_metrics(fit.groups, truth, ["gr", "sch"])
        rows.append(m.assign(subject=subject, model=model))
recovery = pd.concat(rows, ignore_index=True)[["subject", "model", "quantity", "n", "correlation",
                                               "bias", "rmse", "coverage"]]
school_n = truth["n"].describe()[["min", "50%", "max"]]
print("students per school and grade (reading):", school_n.round().to_dict())
recovery.round(3)""")
md("""Means are recovered almost perfectly (correlation about .98-.99, no bias). SDs are harder: STAR
schools are small (median 75 students per grade) and differ little in their SDs, so the signal is weak;
the correlations (.6-.7) are below the paper's .78-.85, which came from larger groups. The partially
pooled model (PHOP) lowers the SD RMSE, as in the paper; HOMOP gives every school the same SD. The
`coverage` column is against the students' *sample* moments, which the population-level intervals
over-cover by design; coverage of the model parameters is checked in the tests (simulated truth: 95%).""")
code("""fit, truth = fits["math", "hetop"]
both = fit.groups.merge(truth, on=["gr", "sch"])
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
sns.scatterplot(data=both, x="true_mean", y="mean", hue="gr", s=22, ax=axes[0])
axes[0].axline((0, 0), slope=1, color="0.4", lw=0.8)
axes[0].set(xlabel="true school mean (students)", ylabel="HETOP mean from 4 levels", title="Means")
sns.scatterplot(data=both, x="true_sd", y="sd", hue="gr", s=22, ax=axes[1], legend=False)
axes[1].axline((0.8, 0.8), slope=1, color="0.4", lw=0.8)
axes[1].set(xlabel="true school SD (students)", ylabel="HETOP SD from 4 levels", title="SDs")
fig.suptitle("Tennessee STAR math, K-3: school moments recovered from level counts", x=0.01, ha="left")
save_figure(fig, "harmonize_star_recovery"); plt.show()""")
code("""math = recovery.query("subject == 'math' and model == 'hetop'").set_index("quantity")
record_numbers("harmonize_star_recovery", {
    "math_mean_correlation": round(float(math.loc["mean", "correlation"]), 3),
    "math_sd_correlation": round(float(math.loc["sd", "correlation"]), 3),
    "math_mean_rmse": round(float(math.loc["mean", "rmse"]), 3),
})
assert math.loc["mean", "correlation"] > 0.97""")

md("""## 2. Recovery on a simulated study world with known NAEP-scale truth

`pds.simulate.study()` builds three states whose tests are nonlinear, unreliable transforms of a
NAEP-like achievement scale: CA publishes district means and SDs, MA and TX proficiency-level counts.
`harmonize_aggregates` takes each route (HETOP for counts, `standardize` for means/SDs), links to the
simulated state NAEP results with each test's reliability, and we compare with the true district means.
The 200-world version of this table is `benchmarks/harmonize_validation.py`.""")
code("""world = pds.simulate.study(random_state=0, progress=False)
variants = {"population": ("population", 0.0), "students": ("students", 0.0),
            "students+estimated": ("students", "estimated"),
            "students+estimated+interp": ("students", "estimated", "estimated")}
err = pds.harmonize.recovery.world_recovery(world, variants)
table = err.groupby(["variant", "state", "source"]).apply(lambda d: pd.Series({
    "districts x cells": len(d), "bias": d["err"].mean(), "rmse": np.sqrt((d["err"] ** 2).mean()),
    "mean se": d["se_mean"].mean(), "coverage95": (d["err"].abs() <= 1.96 * d["se_mean"]).mean()}),
    include_groups=False)
table.round(3)""")
md("""Bias is small (under 1 NAEP point; state SDs are about 30). The **estimand** matters for coverage:
the default intervals are for a district's student *population* and include student sampling error,
so against the tested students' own mean they over-cover; removing that part (`estimand="students"`)
leaves coarsening and measurement error only, and under-covers. Two further error terms are
estimated from the world's own NAEP tables, with nothing tuned on the truth:

* `students+estimated`: the **linking error**, from the world's TUDA-like districts
  (`estimate_linking_error`, Reardon, Kalogrides & Ho 2021). It is small here, and it can only be
  checked where NAEP tests (grades 4 and 8 of NAEP years);
* `students+estimated+interp`: also the **interpolation error** of the state NAEP means and SDs
  used for grades 3, 5, 6, 7 and the years between NAEP years (`estimate_interpolation_error`: how
  differently the states' grade-4-to-8 gaps and their changes between NAEP years vary, beyond NAEP
  sampling error). That error is shared by a whole state-grade-year, which is why leaving it out
  hurts coverage most in the interpolated cells.""")
code("""err["cells"] = np.where(err["naep_interpolated"], "interpolated", "NAEP-tested")
err.assign(covered=err["err"].abs() <= 1.96 * err["se_mean"]).pivot_table(
    index="variant", columns="cells", values="covered", aggfunc="mean").round(3)""")
code("""fig, ax = plt.subplots(figsize=(6, 4))
sns.histplot(data=err.query("variant == 'population'"), x="err", hue="state", element="step",
             stat="density", common_norm=False, ax=ax)
ax.set(xlabel="linked minus true district mean (NAEP points)",
       title="Simulated world: error of NAEP-linked district means")
save_figure(ax, "harmonize_simulated_world_errors"); plt.show()""")

md("""## 3. California and Massachusetts districts on one scale

Real data: `AER/CASchools` (420 California districts, 1998-99, **grade 5** SAT-9 math district means)
and `AER/MASchools` (220 Massachusetts districts, 1998, **grade 4** MCAS total district means). The two
tests share no scale. NAEP state means come from the reference table shipped with the package (NSF
Science and Engineering Indicators 2006 Table 8-1 and NCES Nation's Report Card 2003, sample without
accommodations, 1996 and 2000), interpolated to 1998/1999 and, for California, to grade 5.

**Assumptions, stated because the results depend on them:**
1. *State NAEP SDs* were not available offline: each state's SD is taken to be the national SD of its
   grade from the NAEP 2003 technical documentation (28.97 at grade 4, 37.47 at grade 8).
2. *Student SD of the state tests*: the data give district means only. We assume district means carry
   15% of the student variance (ICC = 0.15), so the star scale is `(mean - state mean) / (SD of
   district means / sqrt(0.15))`.
3. *Reliability* of both state tests: 0.90.
4. *Weights*: California districts by enrollment; Massachusetts (no enrollment given) equally.
   California standard errors use about enrollment/7 (K-6) or /9 (K-8) tested fifth graders;
   Massachusetts publishes no counts, so its estimation SEs are missing rather than invented.""")
code("""ICC, REL = 0.15, 0.90
ca = load_rdataset("AER", "CASchools")
ma = load_rdataset("AER", "MASchools")
districts = pd.concat([
    pd.DataFrame({"unit_id": "CA" + ca["district"].astype(str), "name": ca["district"].astype(str),
                  "state": "CA", "year": 1999, "grade": 5, "subject": "math", "score": ca["math"],
                  "weight": ca["students"], "n": ca["students"] / np.where(ca["grades"] == "KK-06", 7, 9)}),
    pd.DataFrame({"unit_id": "MA" + ma["district"].astype(str), "name": ma["municipality"],
                  "state": "MA", "year": 1998, "grade": 4, "subject": "math", "score": ma["score4"],
                  "weight": 1.0, "n": np.nan}),
], ignore_index=True)
zscores = pds.harmonize.standardize(districts, "score", weight="weight")
star_scale = pds.harmonize.standardize(districts, "score", weight="weight", icc=ICC)
star_scale["se_mean"] = 1 / np.sqrt(star_scale["n"])  # student SD / sqrt(tested), in star units
star_scale["sd"], star_scale["se_sd"] = np.sqrt(1 - ICC), np.nan
print(zscores["sd_source"].iloc[0], "|", star_scale["sd_source"].iloc[0])
naep = pds.harmonize.naep_state_means(fill_sd=pds.harmonize.NATIONAL_SD_2003)
interp = pds.harmonize.estimate_interpolation_error(naep)
interp""")
md("""Both cells are linked through interpolated NAEP values: California grade 5 in 1999 (between grades 4 and
8 and between NAEP years) and Massachusetts grade 4 in 1998 (between 1996 and 2000). How far such values can
stray is estimated from the published state means themselves: the three states with grade 4 and grade 8
results (CA, MA, MI) differ in their grade-4-to-8 gaps (persistent part) and in how those gaps change
between NAEP years (transient part). The table publishes no standard errors, so NAEP sampling error is not
subtracted and the estimates err on the large side; with three states the intervals are wide.""")
code("""linked = pds.harmonize.link_to_naep(star_scale, naep, reliability=REL, reference_years=[1996, 2000],
                                    interpolation_error=interp)
parts = ["se_mean", "se_estimation", "se_naep", "se_linking", "se_interpolation"]
print(linked.summary()[:1600])
linked.scale("naep").groupby("state")[parts].median().round(2)""")
code("""cs = linked.scale("cohort_standardized")
cmp = zscores[["unit_id", "name", "state", "mean"]].rename(columns={"mean": "z_within_state"}).merge(
    cs[["unit_id", "mean", "se_mean"]].rename(columns={"mean": "linked_cs", "se_mean": "se_cs"}), on="unit_id")
cmp["rank_z"] = cmp["z_within_state"].rank(pct=True)
cmp["rank_linked"] = cmp["linked_cs"].rank(pct=True)
ca_med_z = cmp.query("state == 'CA'")["z_within_state"].median()
ca_med_l = cmp.query("state == 'CA'")["linked_cs"].median()
share_z = float((cmp.query("state == 'MA'")["z_within_state"] > ca_med_z).mean())
share_l = float((cmp.query("state == 'MA'")["linked_cs"] > ca_med_l).mean())
summary = cmp.groupby("state").agg(districts=("unit_id", "size"), mean_z=("z_within_state", "mean"),
                                   mean_linked=("linked_cs", "mean"), sd_linked=("linked_cs", "std"),
                                   mean_pct_rank_z=("rank_z", "mean"), mean_pct_rank_linked=("rank_linked", "mean"))
print(f"share of MA districts above the CA median: within-state z {share_z:.2f}, NAEP-linked {share_l:.2f}")
summary.round(3)""")
md("""Within-state z-scores put both states' (weighted) averages at 0 by construction: a Massachusetts district and a
California district at z = 1 look alike. On the NAEP-linked, cohort-standardized scale (national
students of the same grade = 0, SD 1) Massachusetts districts sit higher, because Massachusetts fourth
graders scored well above California fifth graders' grade-adjusted level on NAEP. About half of
Massachusetts districts beat the California median on z-scores, but most do once linked.""")
code("""long = pd.concat([
    cmp[["state", "z_within_state"]].rename(columns={"z_within_state": "value"}).assign(scale="within-state z-score"),
    cmp[["state", "linked_cs"]].rename(columns={"linked_cs": "value"}).assign(scale="NAEP-linked (cohort-standardized)"),
])
g = sns.displot(data=long, x="value", hue="state", col="scale", kind="kde", fill=True,
                common_norm=False, height=3.6, aspect=1.3, facet_kws={"sharex": False})
g.set_axis_labels("district mean", "density")
g.figure.suptitle("California and Massachusetts districts: z-scores hide the level difference", y=1.04, x=0.02, ha="left")
save_figure(g.figure, "harmonize_ca_ma_distributions"); plt.show()""")
code("""fig, ax = plt.subplots(figsize=(6, 5))
sns.scatterplot(data=cmp, x="rank_z", y="rank_linked", hue="state", s=16, alpha=0.7, ax=ax)
ax.axline((0, 0), slope=1, color="0.4", lw=0.8)
ax.set(xlabel="percentile rank among all 640 districts, within-state z-scores",
       ylabel="percentile rank, NAEP-linked scale",
       title="How district comparisons change once scores are linked")
save_figure(ax, "harmonize_ca_ma_rank_change"); plt.show()""")
code("""sample = pd.concat([linked.scale("cohort_standardized").query("state == @s").sample(20, random_state=1)
                    for s in ["CA", "MA"]])
sample = sample.assign(label=sample["unit_id"])
ax = pds.figures.caterpillar(sample, estimate="mean", lower="mean_lower", upper="mean_upper", label="label",
                             hue="state", title="Linked district means, 20 per state (95% intervals; MA: no counts published)")
ax.set_xlabel("cohort-standardized mean (national SD units)")
save_figure(ax, "harmonize_ca_ma_caterpillar"); plt.show()
record_numbers("harmonize_ca_ma", {"share_ma_above_ca_median_z": round(share_z, 3),
                                   "share_ma_above_ca_median_linked": round(share_l, 3),
                                   "icc_assumed": ICC, "reliability_assumed": REL,
                                   "interp_omega_mean_persistent": round(interp.omega("mean", "persistent"), 2),
                                   "interp_omega_mean_transient": round(interp.omega("mean", "transient"), 2)})
assert share_l > share_z""")
md("""How much rests on the ICC assumption? The ICC sets how far apart a state's districts are in student
SD units; the state's level (its NAEP mean) does not depend on it.""")
code("""sens = []
for icc in [0.10, 0.15, 0.25]:
    s = pds.harmonize.standardize(districts, "score", weight="weight", icc=icc).assign(se_mean=np.nan, sd=np.nan, se_sd=np.nan)
    l = pds.harmonize.link_to_naep(s, naep, reliability=REL, reference_years=[1996, 2000]).scale("cohort_standardized")
    ca_m = l.query("state == 'CA'")["mean"].median()
    sens.append({"icc": icc, "sd of linked means CA": l.query("state == 'CA'")["mean"].std(),
                 "share MA above CA median": (l.query("state == 'MA'")["mean"] > ca_m).mean()})
pd.DataFrame(sens).round(3)""")

md("""## 4. A gap from level counts: small vs regular classes in STAR

Ho & Reardon's V is the gap in SD units implied by the probability that a student of one group
outscores a student of the other; it needs only the two groups' level counts. Here: first-grade math,
students in small classes vs regular classes of the same school (counts from the coarsened scores).""")
code("""g1 = star[star["gr"] == "1"].dropna(subset=["math"])
cuts = np.quantile(g1["math"], [0.2, 0.5, 0.8])
g1 = g1.assign(level=np.searchsorted(cuts, g1["math"], side="right") + 1)
cls = g1[g1["cltype"].isin(["small", "reg"])]
counts = (cls.groupby(["sch", "cltype", "level"]).size().unstack(fill_value=0)
          .rename(columns=lambda k: f"level_{k}").reset_index())
counts = counts.assign(state="TN", year=1986, grade=1, subject="math")
gap = pds.harmonize.gaps(counts, "small", "reg", group="sch", subgroup="cltype")
v = gap.estimates[~gap.estimates["flag"]]  # flagged rows have no standard error
w = 1 / v["std_error"] ** 2
pooled, pooled_se = float(np.sum(w * v["estimate"]) / w.sum()), float(np.sqrt(1 / w.sum()))
print(f"{len(v)} schools; precision-weighted mean V = {pooled:.3f} (SE {pooled_se:.3f})")
print(gap.sample_log)
ax = gap.plot()
ax.axvline(0, color="0.3", lw=0.8)
save_figure(ax, "harmonize_star_class_size_gaps"); plt.show()
record_numbers("harmonize_star_class_size", {"pooled_v": round(pooled, 3), "pooled_v_se": round(pooled_se, 3)})""")
md("""The pooled gap favours small classes and is far from zero: STAR's well-documented small-class
advantage, recovered here from nothing but four-level counts per school and class type (V is in
student SD units if both groups' scores are normal on some common monotone scale).""")

NB.write("notebooks/02_harmonize_real_states.ipynb")
