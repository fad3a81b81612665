"""Write notebooks/04_value_added.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook

NB = Notebook()
md, code = NB.md, NB.code

md("""# 04 - Teacher and school value-added on Tennessee STAR

Project STAR (Tennessee, 1985-1989) followed one cohort from kindergarten to grade 3 and
**randomly assigned students and teachers to small, regular and regular-with-aide classes
within each school**. `mlmRev::star` holds 26,796 student-grade records with teacher ids
(`tch`), schools (`sch`), class type and Stanford Achievement Test scores.

Because the cohort moves up one grade per school year, grade is also the year. Below:

1. the analysis file: each student's grade-g math score with the grade-(g-1) math and
   reading scores as priors (grades 1-3);
2. **teacher value-added** (Kane-Staiger empirical Bayes, by grade): every STAR teacher
   taught one class, so teacher and class effects cannot be separated - the estimate is
   the teacher-*and*-class effect, and pdstats says so;
3. **school value-added**: Chetty-Friedman-Rockoff drift-adjusted leave-year-out forecasts
   with teachers as the classes, with the forecast-bias test and the drift curve;
4. **the randomization as a validity check**: within a school, a teacher's class type and
   students were assigned at random, so (a) students' pre-determined background must not
   predict their teacher's VA, and (b) the VA gap between small and regular classes is an
   experimental effect that VA must reproduce;
5. a bonus rule (top 20% of teachers) with its expected misclassification;
6. student growth percentiles in grade 3 and median growth percentiles by school.

No student-level rows are printed: only counts, model summaries and unit-level tables.""")
code("""import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

import pdstats as pds
from pdstats.data.datasets import load_rdataset
from pdstats.report import record_numbers, save_figure

# show each distinct pdstats warning once (e.g. STAR has one class per teacher, so teacher and
# class effects cannot be separated) instead of once per grade
warnings.simplefilter("once", pds.EstimationWarning)""")
md("## The analysis file")
code("""star = load_rdataset("mlmRev", "star")
star["grade"] = star["gr"].replace({"K": "0"}).astype(int)
prior = (star[["id", "grade", "math", "read"]]
         .assign(grade=lambda d: d["grade"] + 1)
         .rename(columns={"math": "prior_math", "read": "prior_read"}))
panel = star.merge(prior, on=["id", "grade"], how="left")
panel["frl"] = (panel["ses"] == "F").astype(float)        # free lunch: pre-determined
panel["girl"] = (panel["sx"] == "F").astype(float)
g13 = panel[panel["grade"] >= 1]
print(f"{len(star):,} student-grade records; {len(g13):,} in grades 1-3, "
      f"{g13['prior_math'].notna().sum():,} with a prior-grade math score")
g13.groupby("grade").agg(teachers=("tch", "nunique"), schools=("sch", "nunique"),
                         students=("id", "size"))""")
md("""## Teacher value-added (empirical Bayes, by grade)

Residualize grade-g math on cubic polynomials of prior math and reading, free-lunch status
and sex, within teacher; then shrink each teacher's mean residual by its reliability. The
sample log shows every row set aside and why.""")
code("""tva = pds.vam.value_added(g13, "math", prior=["prior_math", "prior_read"],
                          controls=["frl", "girl"], unit="tch", year="grade", method="eb",
                          by="grade", progress=False)
print(tva.sample_log)
tva.variance_components.round(2)""")
code("""print(tva.summary()[:1400])""")
code("""ax = tva.plot()
ax.set_title("STAR teacher value-added in math (EB, 95% intervals), grades 1-3", loc="left")
save_figure(ax, "vam_star_teacher_caterpillar"); plt.show()""")
md("""## School value-added (CFR, drift-adjusted leave-year-out)

Schools are observed in three grades (= three years); teachers are the classes, so the
class-shock variance is identified. Each school-grade estimate is forecast from the
school's *other* grades only.""")
code("""sva = pds.vam.value_added(g13, "math", prior=["prior_math", "prior_read"], unit="sch",
                          year="grade", classroom="tch", method="cfr", progress=False)
print(sva.summary())""")
code("""fig, axes = plt.subplots(1, 2, figsize=(12, 4))
sva.plot(ax=axes[0]); axes[0].set_title("School-grade VA (CFR), 95% intervals", loc="left")
sva.plot(kind="drift", ax=axes[1]); axes[1].set_title("Drift: autocorrelation by lag", loc="left")
save_figure(axes[0], "vam_star_school_cfr"); plt.show()""")
code("""fb = pds.vam.forecast_bias(sva)
stab = pds.vam.stability(sva)
display(fb.round(3)); display(stab.round(3))""")
md("""## The randomization as a validity check

**(a) Balance.** Within a school, students were randomly assigned to classes, so a
student's free-lunch status and sex - fixed before the teacher could affect anything - must
not predict the teacher's VA (school fixed effects, SEs clustered by teacher). Both are
controls of the VA model, so their own effect on growth is already taken out: what is left
would be teachers sorted to students.

**(b) Class size.** Class type was randomly assigned, so the mean VA of small-class
teachers minus that of regular-class teachers (within school) is an experimental contrast:
the class-size effect on one year's growth. STAR's published finding is that small classes
raised achievement mostly in the first year in a small class (K or grade 1), with little
extra gain per year afterwards - VA estimates should show the same pattern.""")
code("""eff = tva.effects.merge(g13.groupby("tch").agg(cltype=("cltype", "first"), sch=("sch", "first")),
                        left_on="unit", right_index=True)
stud = g13.merge(eff[["unit", "estimate"]], left_on="tch", right_on="unit")
rows = []
for var in ("frl", "girl"):
    m = smf.ols(f"{var} ~ estimate + C(sch)", data=stud).fit(
        cov_type="cluster", cov_kwds={"groups": stud["tch"]})
    rows.append({"pre-determined": var, "coef per VA point": m.params["estimate"],
                 "std_error": m.bse["estimate"], "p": m.pvalues["estimate"]})
balance = pd.DataFrame(rows)
balance.round(4)""")
code("""size = []
for gr, e in eff.groupby("grade"):
    m = smf.ols("estimate ~ C(cltype, Treatment('reg')) + C(sch)", data=e).fit(
        cov_type="cluster", cov_kwds={"groups": e["sch"]})
    k = "C(cltype, Treatment('reg'))[T.small]"
    size.append({"grade": gr, "small - regular (VA points)": m.params[k],
                 "std_error": m.bse[k], "p": m.pvalues[k], "teachers": len(e)})
size = pd.DataFrame(size)
display(size.round(3))
ax = size.plot(x="grade", y="small - regular (VA points)", kind="bar", yerr=1.96 * size["std_error"],
               legend=False, figsize=(5, 3.5), rot=0)
ax.axhline(0, color="black", lw=0.6); ax.set_ylabel("small minus regular, teacher VA")
ax.set_title("Randomized class size, seen through teacher VA", loc="left")
save_figure(ax, "vam_star_class_size"); plt.show()""")
md("""## A bonus for the top 20% of teachers

With EB posteriors, each teacher's probability of truly being above the cut and the
expected share of wrongly paid (and wrongly unpaid) teachers follow directly.""")
code("""cls = pds.vam.classify(tva, cut=0.8, n_draws=500, random_state=0)
display(cls.rates.round(3))
ax = cls.plot(); ax.set_title("P(above the top-20% cut) by rank, STAR teachers", loc="left")
save_figure(ax, "vam_star_bonus"); plt.show()""")
md("""## Student growth percentiles (grade 3)

Grade-3 math on B-spline bases of grade-2 and grade-1 math (100 quantile regressions,
the SGP package's conventions); median growth percentiles by school with bootstrap SEs.""")
code("""prior2 = (star[["id", "grade", "math"]].assign(grade=lambda d: d["grade"] + 2)
          .rename(columns={"math": "prior2_math"}))
g3 = panel[panel["grade"] == 3].merge(prior2, on=["id", "grade"], how="left")
sg = pds.vam.sgp(g3, "math", ["prior_math", "prior2_math"], unit="sch", n_boot=200,
                 random_state=0, progress=False)
print(sg.summary())""")
code("""fig, axes = plt.subplots(1, 2, figsize=(12, 4))
sg.plot(ax=axes[0]); axes[0].set_title("Grade-3 SGPs: uniform by construction", loc="left")
sg.plot(kind="units", ax=axes[1]); axes[1].set_title("Median SGP by school, 95% bootstrap CI", loc="left")
save_figure(axes[1], "vam_star_sgp"); plt.show()""")
md("## Numbers for the paper")
code("""vc = tva.variance_components.set_index(["grade", "component"])["estimate"]
numbers = {
    "star_teachers": int(tva.effects["unit"].nunique()),
    "star_teacher_sd_grade1": float(np.sqrt(vc.loc[(1, "unit (between-class covariance)")])),
    "star_teacher_reliability": float(tva.effects["reliability"].mean()),
    "star_school_forecast_coef": float(fb["estimate"].iloc[0]),
    "star_school_forecast_se": float(fb["std_error"].iloc[0]),
    "star_school_lag1_corr": float(sva.autocovariance["correlation"].iloc[0]),
    "star_balance_frl_p": float(balance.loc[0, "p"]),
    "star_small_class_va_grade1": float(size.loc[0, "small - regular (VA points)"]),
    "star_bonus_expected_misclassified_share": float(cls.rates["expected_share_misclassified"].mean()),
    "star_sgp_mean": float(sg.students["sgp"].mean()),
}
record_numbers("vam", numbers)
pd.Series(numbers).round(3)""")
NB.write("notebooks/04_value_added.ipynb")
