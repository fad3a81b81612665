"""Write notebooks/10_year1_baseline.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook, study_opening

NB = Notebook()
md, code = NB.md, NB.code

md("""# 10 - Year 1: the baseline

The first of the three yearly study notebooks. It reads **only the study store and its
configuration** (papermill parameters below; `pdstats reproduce --study store.duckdb
--config study.toml` injects them) and writes what the year-1 report needs: the sample,
the stage matrix and the year-1 report's figures from the store's practice ratings, and
achievement at baseline on the NAEP-linked scale. A section the store cannot support
says what is missing, and the notebook goes on. No student-level row is printed.""")
study_opening(NB)
md("## The sample")
code("""Y1 = cfg.year1
districts = store.read("districts")
districts = districts[districts["state"].isin(cfg.states)].copy()
districts["studied"] = districts["studied"].fillna(True).astype(bool)
schools = store.read("schools").merge(districts[["district_id", "state"]], on="district_id")
sample = (districts.groupby("state")
          .agg(studied_districts=("studied", "sum"), comparison_districts=("studied", lambda s: int((~s).sum())))
          .join(schools.groupby("state").size().rename("schools"))
          .fillna(0).astype(int).reset_index())
n_students = None
if not section_missing(store, "y1_students", ["enrollments"], record=False):
    enr = tables_until(store, ["enrollments"], Y1)["enrollments"]
    enr = enr[enr["year"] == Y1].merge(districts[["district_id", "state"]], on="district_id")
    sample = sample.merge(enr.groupby("state")["student_id"].nunique().rename("students").reset_index(),
                          on="state", how="left")
    sample = pds.privacy.protect(sample, counts=["students"], min_n=cfg.suppression_threshold, name="y1_sample").table
    n_students = int(enr["student_id"].nunique())
display(sample)
fig, ax = plt.subplots(figsize=(6, 3))
sample.set_index("state")[["studied_districts", "comparison_districts"]].plot.barh(stacked=True, ax=ax)
ax.set(xlabel="districts", title=f"The sample, year 1 ({Y1})")
save_figure(fig, "y1_sample", data=sample, count_columns=["students"] if "students" in sample else ()); plt.show()
record_numbers("y1_sample", {
    "year": str(Y1), "n_states": int(sample["state"].nunique()),
    "n_districts_studied": int(districts["studied"].sum()),
    "n_districts_comparison": int((~districts["studied"]).sum()),
    "n_schools": int(len(schools)),
    **({"n_students": n_students} if n_students is not None else {}),
})""")
md("""## The stage matrix

Table 6.1 of the year-1 report: for each of the 12 practices and 4 stages, the number of
studied districts whose informants evidence the stage (the report's rule: a cell counts
when any informant evidences it), computed from the store's year-1 practice ratings.""")
code("""year1 = tables_until(store, ["districts", "practice_ratings", "interview_codes"], Y1)
year1["practice_ratings"] = year1["practice_ratings"][year1["practice_ratings"]["year"] == Y1]
year1["interview_codes"] = year1["interview_codes"][year1["interview_codes"]["year"] == Y1]
year1["districts"] = districts[districts["studied"]]
if not section_missing(store, "y1_stage_matrix", ["practice_ratings"]):
    y1_tables = pds.practices.year1_tables(year1)
    t61 = y1_tables["Table 6.1"]
    matrix = t61.pivot_table(index="measure", columns="category", values="value", sort=False)
    display(matrix)
    ax = pds.figures.plot_year1_figure(y1_tables, "Table 6.1")
    save_figure(ax, "y1_stage_matrix", data=t61[["measure", "category", "value", "denominator"]]); plt.show()
    stage_share = t61.groupby("category")["value"].sum() / t61["denominator"].groupby(t61["category"]).sum()
    record_numbers("y1_stage_matrix", {
        "n_districts": int(t61["denominator"].max()),
        "share_stage1": round(float(stage_share.iloc[0]), 3),
        "share_stage4": round(float(stage_share.iloc[-1]), 3),
    })""")
md("""### The year-1 report's other figures

Figures 1.1 to 4.2 count interview codes (what informants said about data use, goals,
accountability...). They are regenerated when the store holds the year's interview codes.""")
code("""FIGURES = ["Figure 1.1", "Figure 3.1.1", "Table 3.1.2", "Figure 3.4.1", "Figure 3.4.2", "Figure 3.4.3",
           "Figure 3.5.1", "Figure 4.2"]
if not section_missing(store, "y1_figures", ["interview_codes", "practice_ratings"]):
    for fig_id in FIGURES:
        name = "y1_" + fig_id.lower().replace(" ", "_").replace(".", "_")
        ax = pds.figures.plot_year1_figure(y1_tables, fig_id)
        save_figure(ax, name, data=y1_tables[fig_id][["measure", "category", "value", "denominator"]]); plt.show()
    record_numbers("y1_figures", {"n_figures": len(FIGURES)})""")
md("""## Practice scores at baseline

The partial-credit index of the 48 stage cells (with its standard error) for every studied
district, as `pds.linkage` uses it.""")
code("""sc = None
if not section_missing(store, "y1_practice_index", ["practice_ratings"]):
    try:
        sc = pds.linkage.practice_scores(year1["practice_ratings"])
    except pds.ConvergenceError as err:   # too few districts' ratings to identify the model: say so
        record_numbers("y1_practice_index", {"missing": f"the baseline ratings do not identify the partial-credit model ({err})"})
        print(f"[y1_practice_index] not available: {err}")
if sc is not None:
    idx = sc[sc["kind"] == "index"].merge(districts[["district_id", "state"]], on="district_id")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.stripplot(data=idx, x="value", y="state", ax=ax)
    ax.set(xlabel="practice index (PCM, logits)", ylabel="", title=f"Practice index by state, {Y1}")
    save_figure(fig, "y1_practice_index", data=idx[["state", "value", "se"]].sort_values(["state", "value"])); plt.show()
    record_numbers("y1_practice_index", {
        "n_districts": int(idx["district_id"].nunique()),
        "mean_se": round(float(idx["se"].mean()), 3),
        "sd_index": round(float(idx["value"].std()), 3),
    })""")
md("""## Harmonized baseline achievement

District results of the state tests, linked to the NAEP scale (`pds.harmonize`:
HETOP on level counts, means and SDs where published; reliability-adjusted), year 1 and
the configured subjects and grades.""")
code("""link = None
if not section_missing(store, "y1_baseline", ["state_assessment_aggregates", "naep_state", "cut_scores"]):
    t = tables_until(store, ["state_assessment_aggregates", "naep_state", "cut_scores"], Y1)
    agg = t["state_assessment_aggregates"]
    agg = agg[(agg["year"] == Y1) & agg["state"].isin(cfg.states) & agg["subject"].isin(cfg.subjects)
              & agg["grade"].isin(cfg.grades)]
    try:
        link = pds.harmonize.harmonize_aggregates(agg, store.read("naep_state"), t["cut_scores"], progress=False)
    except pds.ModelSpecificationError as err:   # the store lacks what linking needs: say what
        record_numbers("y1_baseline", {"missing": f"the store's results cannot be linked to the NAEP scale: {err}"})
        print(err)
if link is not None:
    est = link.estimates
    means = est[(est["quantity"] == "mean") & (est["scale"] == "naep")]
    print(link.sample_log)
    display(means.head())
    keep = [c for c in ("unit_id", "state", "grade", "subject", "estimate", "std_error") if c in means]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.boxplot(data=means, x="estimate", y="state", hue="subject" if means["subject"].nunique() > 1 else None, ax=ax)
    ax.set(xlabel="district mean, NAEP-linked scale", ylabel="", title=f"Baseline achievement, {Y1}")
    save_figure(fig, "y1_baseline", data=means[keep].sort_values(keep[:4])); plt.show()
    record_numbers("y1_baseline", {
        "n_units": int(means["unit_id"].nunique()) if "unit_id" in means else int(len(means)),
        "n_cells": int(len(means)),
        "mean_linked": round(float(means["estimate"].mean()), 2),
        "median_se": round(float(means["std_error"].median()), 2),
    })""")
code("store.close()")
NB.write("notebooks/10_year1_baseline.ipynb")
