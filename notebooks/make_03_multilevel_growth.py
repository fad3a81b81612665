"""Write notebooks/03_multilevel_growth.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook

NB = Notebook()
md, code = NB.md, NB.code

md("""# 03 · Three-level growth models for Chicago math scores (`mlmRev/egsingle`)

This notebook fits the classic three-level growth models of the HLM manual
(Bryk & Raudenbush; the `egsingle` data: 7,230 test occasions of 1,721 children in 60
Chicago elementary schools) with `pds.lmm`, and compares them with

* the **published** fixed effects of the unconditional growth model (-0.7792, 0.7631), and
* **R's lme4 / lmerTest**, whose estimates were computed by
  `tests/reference/multilevel/make_reference.R`, committed next to it and shipped with the package.

It then plots the model-implied growth trajectory of every school.
Only aggregates are shown: no student-level rows are printed.""")
code("""import json
from importlib.resources import files

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

import pdstats as pds
from pdstats.data.datasets import load_rdataset
from pdstats.report import record_numbers, save_figure

REF = files("pdstats.multilevel") / "data"  # shipped copies of tests/reference/multilevel/


def lme4_reference(name):
    return json.loads((REF / f"{name}.json").read_text())


eg = load_rdataset("mlmRev", "egsingle")
summary = pd.Series({
    "test occasions": len(eg),
    "children": eg["childid"].nunique(),
    "schools": eg["schoolid"].nunique(),
    "occasions per child (mean)": round(eg.groupby("childid").size().mean(), 2),
})
summary""")
md("""## Unconditional growth model (REML)

`math ~ year + (year | childid) + (year | schoolid)`: each child and each school has its
own intercept (status at `year = 0`, grade 3.5) and growth rate, correlated within level.""")
code("""uncond = pds.lmm("math ~ year + (year | childid) + (year | schoolid)", eg)
uncond""")
code("""published = pd.Series({"Intercept": -0.7792, "year": 0.7631}, name="published")
ref = lme4_reference("egsingle_uncond_reml")
compare = uncond.fe[["estimate", "std_error", "df"]].join(published)
compare["lme4"] = ref["fe"]["estimate"]
compare["lmerTest df"] = ref["fe"]["df"]
compare["matches published (4 dp)"] = compare["estimate"].round(4) == compare["published"]
assert compare["matches published (4 dp)"].all(), "fixed effects differ from the published values"
assert ((compare["estimate"] - compare["lme4"]).abs() <= 1e-4 * compare["lme4"].abs()).all()
assert ((compare["df"] - compare["lmerTest df"]).abs() <= 1e-2 * compare["lmerTest df"]).all()
record_numbers("multilevel", {"egsingle_intercept": float(compare.loc["Intercept", "estimate"]),
                              "egsingle_slope": float(compare.loc["year", "estimate"]),
                              "egsingle_slope_df": float(compare.loc["year", "df"])})
compare""")
md("""Variance components with 95% profile-likelihood intervals for the SDs and
correlations (as lme4's `confint(method = "profile")`; the variance intervals are the
squared SD intervals), next to lme4's estimates.""")
code("""vc = uncond.varcomp_ci(method="profile")
vc["lme4"] = ref["varcomp"]["vcov"]
assert ((vc["estimate"] - vc["lme4"]).abs() <= 1e-4 * vc["lme4"].abs() + 1e-6).all()
vc""")
md("""The intraclass correlations show how the variance in status at `year = 0` splits over
children and schools, and the HLM-style reliabilities how well each child's and each
school's own data determine its intercept and growth rate.""")
code("""display(uncond.icc())
uncond.reliability()""")
md("""Cluster-robust (CR2) standard errors with small-sample Satterthwaite df, clustered on
schools, are close to the model-based ones: the covariance model fits well.""")
code("""uncond.cr2()[["estimate", "std_error", "df", "ci_lower", "ci_upper"]].join(
    uncond.fe[["std_error"]].rename(columns={"std_error": "model_std_error"}))""")
md("""## Conditional growth model (ML)

Status and growth depend on the child's ethnicity and on the school's percentage of
low-income students: `math ~ year * (black + hispanic + lowinc) + (year | childid) + (year | schoolid)`,
fitted by maximum likelihood so that it can be compared with a reduced model by a
likelihood-ratio test.""")
code("""cond = pds.lmm(
    "math ~ year * (black + hispanic + lowinc) + (year | childid) + (year | schoolid)",
    eg, reml=False)
ref_c = lme4_reference("egsingle_cond_ml")
tab = cond.fe.copy()
tab["lme4"] = ref_c["fe"]["estimate"]
tab["lmerTest df"] = ref_c["fe"]["df"]
assert ((tab["estimate"] - tab["lme4"]).abs() <= 1e-4 * tab["lme4"].abs() + 1e-6).all()
assert ((tab["df"] - tab["lmerTest df"]).abs() <= 1e-2 * tab["lmerTest df"]).all()
assert abs(cond.loglike - ref_c["loglik"]) < 1e-3
tab""")
code("""reduced = pds.lmm(
    "math ~ year * (black + hispanic) + (year | childid) + (year | schoolid)", eg, reml=False)
lr = pds.multilevel.lrtest(reduced, cond)
assert abs(lr["chisq"].iloc[1] - lme4_reference("egsingle_lrt")["chisq"]) < 2e-3
lr""")
md("""## School growth trajectories

For each school, the model-implied mean trajectory is the fixed part plus the school's
conditional modes (intercept and slope), evaluated over the observed years.""")
code("""re = uncond.ranef()
school = re[re.group == "schoolid"].pivot(index="level", columns="term", values="mode")
years = np.linspace(eg["year"].min(), eg["year"].max(), 9)
b0, b1 = uncond.fe.loc["Intercept", "estimate"], uncond.fe.loc["year", "estimate"]
traj = pd.DataFrame(
    [(s, y, b0 + row["Intercept"] + (b1 + row["year"]) * y)
     for s, row in school.iterrows() for y in years],
    columns=["school", "year", "math"])
fig, ax = plt.subplots(figsize=(7, 4.5))
sns.lineplot(data=traj, x="year", y="math", units="school", estimator=None,
             color="steelblue", alpha=0.35, lw=0.8, ax=ax)
sns.lineplot(x=years, y=b0 + b1 * years, color="black", lw=2.5, ax=ax, label="average school")
ax.set(xlabel="year (0 = spring of grade 3.5)", ylabel="math (IRT scale)",
       title="Model-implied growth trajectories of the 60 egsingle schools")
fig.tight_layout()
save_figure(fig, "03_school_growth_trajectories")
traj.groupby("year")["math"].agg(["min", "mean", "max"]).round(3)""")
md("""Schools differ more in their status than in their growth rates (school SDs
0.41 vs 0.11 per year), and the two are positively correlated (about 0.40): schools that
start higher also tend to grow a little faster.""")
code("""sd = uncond.varcomp.query("group == 'schoolid'")
assert abs(sd["sd"].iloc[0] - 0.41) < 0.005 and abs(sd["sd"].iloc[1] - 0.11) < 0.005
assert abs(sd["corr"].iloc[2] - 0.40) < 0.01
slopes = school["year"] + b1
pd.Series({"school growth rate, min": slopes.min(), "median": slopes.median(),
           "max": slopes.max()}).round(3)""")

NB.write("notebooks/03_multilevel_growth.ipynb")
