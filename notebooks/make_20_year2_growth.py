"""Write notebooks/20_year2_growth.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook, study_opening

NB = Notebook()
md, code = NB.md, NB.code

md("""# 20 - Year 2: the first growth year

The second yearly study notebook: what the study knows at the end of its second year.
Everything is computed from the store's rows up to year 2 (later rows are left out):
practice change, growth on the NAEP-linked scale, district value-added, the first
practice-growth estimates (`pds.linkage`) and the programs' rollout so far.""")
study_opening(NB)
code("""Y1, Y2 = cfg.year1, cfg.year2
LINK_TABLES = ["districts", "state_assessment_aggregates", "naep_state", "cut_scores", "practice_ratings",
               "program_adoption"]
if Y2 is None:
    record_numbers("y2_growth", {"missing": "the study configuration names one study year"})
have_two_years = Y2 is not None and not section_missing(store, "y2_growth", LINK_TABLES, years=2)
WHY_NOT = "it needs two study years of achievement and practice data"
if have_two_years:
    upto = tables_until(store, LINK_TABLES, Y2)
    upto["state_assessment_aggregates"] = upto["state_assessment_aggregates"].query("state in @cfg.states")
    try:
        SCORES = pds.linkage.practice_scores(upto["practice_ratings"])
    except pds.ConvergenceError as err:   # too few districts' ratings to identify the model: say so
        have_two_years, WHY_NOT = False, f"the practice ratings do not identify the partial-credit model ({err})"
        record_numbers("y2_growth", {"missing": WHY_NOT})""")
md("""## Practice change

The practice index in year 1 and year 2 for every studied district, and the number of
stage cells gained or lost.""")
code("""if have_two_years:
    sc = SCORES
    idx = sc[sc["kind"] == "index"].pivot(index="district_id", columns="year", values="value").dropna()
    change = (idx[Y2] - idx[Y1]).rename("change").reset_index()
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(idx[Y1], idx[Y2]); lim = [idx.min().min(), idx.max().max()]; ax.plot(lim, lim, ls=":", c="grey")
    ax.set(xlabel=f"practice index {Y1}", ylabel=f"practice index {Y2}", title="Practice change, years 1-2")
    save_figure(fig, "y2_practice_change", data=idx.reset_index().rename(columns=str)); plt.show()
    record_numbers("y2_practice_change", {
        "n_districts": int(len(idx)), "mean_change": round(float(change["change"].mean()), 3),
        "share_rising": round(float((change["change"] > 0).mean()), 3),
    })
else:
    record_numbers("y2_practice_change", {"missing": WHY_NOT})""")
md("""## Harmonized growth and the first practice-growth estimates

Cohort growth (grade g in year 2 minus grade g-1 in year 1) of every district on the
NAEP-linked scale, joined to the practice index (`pds.linkage.analysis_panel`); the
district-level model with the practice scores' measurement error corrected and CR2
inference by district.""")
code("""if have_two_years:
    panel = pds.linkage.analysis_panel(upto, subject=cfg.subjects[0], scores=SCORES)
    print(panel.sample_log)
    ax = panel.plot()
    save_figure(ax, "y2_growth_vs_practice", data=panel.data[["state", "year", "grade", "growth", "practice_index"]]
                .sort_values(["state", "year", "grade", "practice_index"]).reset_index(drop=True)); plt.show()
    fit = pds.linkage.practice_growth(panel, model="district", progress=False)
    e = fit.effect()
    display(fit.estimates.round(3))
    record_numbers("y2_growth", {
        "n_districts": int(panel.n_districts), "n_growth_rows": int(len(panel.data)),
        "mean_growth": round(float(panel.data["growth"].mean()), 2),
    })
    record_numbers("y2_linkage", {
        "district_est": round(float(e["estimate"]), 2), "district_se": round(float(e["std_error"]), 2),
        "district_df": round(float(e["df"]), 1), "district_p": round(float(e["p_value"]), 3),
    })
else:
    record_numbers("y2_linkage", {"missing": WHY_NOT})""")
md("""## Value-added

District value-added in year 2 (`pds.vam`, Kane-Staiger empirical Bayes): students' year-2
scores on their year-1 scores, standardized within grade and year, district effects shrunk
by their reliability. Needs the student-level tables.""")
code("""if Y2 is None:
    record_numbers("y2_value_added", {"missing": "the study configuration names one study year"})
elif not section_missing(store, "y2_value_added", ["enrollments", "student_scores"], years=2):
    st = tables_until(store, ["enrollments", "student_scores"], Y2)
    af = pds.vam.analysis_file(st["enrollments"], st["student_scores"])
    af = af[(af["year"] == Y2) & (af["subject"] == cfg.subjects[0]) & af["state"].isin(cfg.states)]
    va = pds.vam.value_added(af, outcome="score", prior="prior_same", unit="district_id", year="year", method="eb")
    print(va.sample_log)
    ax = pds.figures.estimates.caterpillar(va.estimates, label="unit",
                                           title=f"District value-added, {Y2} (EB, student SDs)")
    save_figure(ax, "y2_value_added", data=va.estimates[["unit", "estimate", "std_error"]]); plt.show()
    record_numbers("y2_value_added", {
        "n_districts": int(len(va.estimates)), "sd_va": round(float(va.estimates["estimate"].std()), 3),
        "n_students": int(va.sample_log.n_used),
    })""")
md("## Program rollout so far\nUnits taking part in each configured program, by first year, up to year 2.")
code("""adopt = store.read("program_adoption")
adopt = adopt[adopt["program"].isin(cfg.programs)]
if Y2 is None or len(adopt) == 0:
    record_numbers("y2_rollout", {"missing": "no configured program has adoption rows, or the study has one year"})
else:
    roll = (adopt.assign(first=adopt["first_treated_year"].where(adopt["first_treated_year"] <= Y2))
            .groupby(["program", "unit_type"])
            .agg(units=("unit_id", "size"), treated_by_year2=("first", "count")).reset_index())
    display(roll)
    fig, ax = plt.subplots(figsize=(6, 2.5))
    sns.barplot(data=roll, y="program", x="treated_by_year2", hue="unit_type", ax=ax)
    ax.set(xlabel=f"units treated by {Y2}", ylabel="", title="Program rollout so far")
    save_figure(fig, "y2_rollout", data=roll); plt.show()
    record_numbers("y2_rollout", {"n_programs": int(roll["program"].nunique()),
                                  "n_units_treated": int(roll["treated_by_year2"].sum())})""")
code("store.close()")
NB.write("notebooks/20_year2_growth.ipynb")
