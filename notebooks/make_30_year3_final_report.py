"""Write notebooks/30_year3_final_report.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook, study_opening

NB = Notebook()
md, code = NB.md, NB.code

md("""# 30 - Year 3: the final report

The third yearly study notebook, on every study year in the store: three-year growth, the
practice-growth models side by side, the program evaluations by design, sensitivity
analyses and power. Tables are written with `pds.report.table` (markdown, HTML and LaTeX
under `output/tables/`) and go into the paper.""")
study_opening(NB)
code("""PRACTICE_LABEL = {"practice_index / index": "practice index (per SD)", "p4p / covariate": "pay for performance"}
LINK_TABLES = ["districts", "state_assessment_aggregates", "naep_state", "cut_scores", "practice_ratings",
               "program_adoption"]
have_years = not section_missing(store, "y3_growth", LINK_TABLES, years=max(len(cfg.years), 2))
if have_years:
    tabs = tables_until(store, LINK_TABLES, cfg.years[-1])
    tabs["state_assessment_aggregates"] = tabs["state_assessment_aggregates"].query("state in @cfg.states")
    has_students = not section_missing(store, "y3_students", ["enrollments", "student_scores"], record=False)
    tabs.update({t: store.read(t) for t in ("students", "enrollments", "student_scores", "schools")} if has_students else {})
WHY_NOT = "it needs at least two study years of achievement and practice data"
if have_years:
    try:
        SCORES = pds.linkage.practice_scores(tabs["practice_ratings"])
    except pds.ConvergenceError as err:   # too few districts' ratings to identify the model: say so
        have_years, WHY_NOT = False, f"the practice ratings do not identify the partial-credit model ({err})"
        record_numbers("y3_growth", {"missing": WHY_NOT})""")
md("## Growth over the study years\nMean cohort growth on the NAEP-linked scale by state and year.")
code("""if have_years:
    panel = pds.linkage.analysis_panel(tabs, subject=cfg.subjects[0], scores=SCORES)
    g = (panel.data.groupby(["state", "year"])["growth"].agg(["mean", "count"]).reset_index()
         .rename(columns={"mean": "mean_growth", "count": "n_estimates"}))
    display(g)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.pointplot(data=g, x="year", y="mean_growth", hue="state", ax=ax)
    ax.set(ylabel="mean yearly growth (NAEP points)", title="Growth by state and year")
    save_figure(fig, "y3_growth", data=g); plt.show()
    record_numbers("y3_growth", {"n_districts": int(panel.n_districts), "n_growth_rows": int(len(panel.data)),
                                 "n_years": int(panel.data["year"].nunique()),
                                 "mean_growth": round(float(panel.data["growth"].mean()), 2)})""")
md("""## The practice-growth models

`pds.linkage.practice_growth`, four ways (district meta-regression, student growth,
within-district change, district value-added); the student and value-added models need the
student-level tables. Effects are NAEP points of yearly growth per SD of the error-free
practice index.""")
code("""if have_years:
    models = pds.linkage.MODELS if has_students else ("district", "within")
    fits = {m: pds.linkage.practice_growth(panel, model=m, progress=False) for m in models}
    pg = table(fits, labels=PRACTICE_LABEL, terms=["practice index (per SD)"], title="Practice index and yearly growth")
    display(pg)
    pg.write("y3_practice_growth")
    eff = pd.DataFrame({m: f.effect()[["estimate", "std_error", "ci_lower", "ci_upper"]] for m, f in fits.items()}).T
    ax = pds.figures.estimates.coefplot(eff.reset_index().rename(columns={"index": "term"}),
                                        title="Practice-index effect by model (95% CI)")
    save_figure(ax, "y3_practice_growth", data=eff.reset_index().rename(columns={"index": "model"})); plt.show()
    d = fits["district"].effect()
    record_numbers("y3_linkage", {
        "n_models": len(fits), "district_est": round(float(d["estimate"]), 2),
        "district_se": round(float(d["std_error"]), 2), "district_df": round(float(d["df"]), 1),
        "district_ci_lower": round(float(d["ci_lower"]), 2), "district_ci_upper": round(float(d["ci_upper"]), 2),
    })
else:
    record_numbers("y3_linkage", {"missing": WHY_NOT})""")
md("""## Program evaluations

Each configured program by its design: staggered adoption by Callaway & Sant'Anna beside
two-way fixed effects (`pds.evaluate`), on students' growth on the linked scale; a randomized
bonus by its intention-to-treat effect on the students of the randomized teachers or schools
in the assignment year (prior-score adjusted, CR2 by the randomized unit, in student SDs of
the state test). Designs without an estimator in this version are listed as not available.""")
code("""program_tables = []
for name in cfg.programs:
    res = evaluate_program(store, name, cfg, profile)
    if res is None:
        continue
    shown = {k: v for k, v in res.items() if not k.startswith("_")}
    t = table(shown, labels={"treated": "ATT", "ATT (simple)": "ATT"}, title=f"Program: {name}")
    display(t)
    t.write(f"y3_program_{name}")
    program_tables.append(name)
    att = {k: v.estimates.iloc[0] for k, v in shown.items()}
    short = {"Callaway-Sant'Anna": "cs", "TWFE": "twfe"}
    record_numbers(f"program_{name}", {
        "n_units": res["_n_units"],
        **{f"{short.get(k, 'itt')}_{s}": round(float(a[s]), 2)
           for k, a in att.items() for s in ("estimate", "std_error")},
    })
record_numbers("y3_programs", {"n_configured": len(cfg.programs), "n_evaluated": len(program_tables)})""")
md("""## Sensitivity

The district model without the correction for the practice scores' measurement error (the
naive, attenuated estimate); on cohort growth (grade g in year t minus grade g-1 in year t-1)
instead of matched growth, which mixes in the students who enter and leave a district and so
dilutes the effect; and on the other subject.""")
code("""if have_years:
    naive = pds.linkage.practice_growth(panel, model="district", correction=False, progress=False)
    rows = {"corrected (CR2)": fits["district"], "no measurement-error correction": naive}
    if panel.growth_kind == "matched":
        rows["cohort growth"] = pds.linkage.practice_growth(
            pds.linkage.analysis_panel(tabs, subject=cfg.subjects[0], scores=SCORES, growth="cohort"), model="district",
            progress=False)
    other = [s for s in ("math", "reading") if s != cfg.subjects[0] and s in set(tabs["state_assessment_aggregates"]["subject"])]
    if other:
        rows[f"{other[0]} (CR2)"] = pds.linkage.practice_growth(
            pds.linkage.analysis_panel(tabs, subject=other[0], scores=SCORES), model="district", progress=False)
    sens = table(rows, labels=PRACTICE_LABEL, terms=["practice index (per SD)"], title="Sensitivity of the district model")
    display(sens)
    sens.write("y3_sensitivity")
    est = {k: round(float(v.effect()["estimate"]), 2) for k, v in rows.items()}
    record_numbers("y3_sensitivity", {"corrected_est": est["corrected (CR2)"],
                                      "naive_est": est["no measurement-error correction"],
                                      "growth": panel.growth_kind,
                                      "cohort_est": est.get("cohort growth", est["corrected (CR2)"])})
else:
    record_numbers("y3_sensitivity", {"missing": WHY_NOT})""")
md("""## Power

The minimum detectable effect of the design (`pds.linkage.mdes_table`, analytic, three
levels, district-level predictor) at this study's number of districts and around it, and
the analytic power curve (`pds.linkage.design_power`).""")
code("""if have_years:
    n = int(panel.n_districts)
    sizes = sorted({10, 20, n, 2 * n, 100})
    tab = pds.linkage.mdes_table(sizes, effect_points=2.0)
    display(tab.round(3))
    res = pds.linkage.design_power(n_districts=n)
    ax = res.plot(over="n_clusters", values=np.arange(6, 101, 2))
    ax.set_title(f"Power of the district design (analytic), {n} districts", loc="left")
    save_figure(ax, "y3_power", data=tab); plt.show()
    record_numbers("y3_power", {"n_districts": n,
                                "mdes_points": round(float(tab.set_index("n_districts").loc[n, "mdes_points"]), 2)})
else:
    record_numbers("y3_power", {"missing": WHY_NOT})""")
code("store.close()")
NB.write("notebooks/30_year3_final_report.ipynb")
