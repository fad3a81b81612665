"""Write notebooks/05_simulated_world.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook

NB = Notebook()
md, code = NB.md, NB.code

md("""# 05 - A simulated study world with known truth

`pds.simulate.study()` builds a complete three-year study world in the data-dictionary
schemas - states with their own tests, studied and comparison districts, schools, teachers,
classes, students and their scores, the aggregates states publish, NAEP results, stage-matrix
evidence, interview codes and incentive programs - together with **the truth that generated
it**. Every estimator in pdstats is checked against such worlds before it touches real data.
The equations are in `src/pdstats/simulate/README.md`.

This tour shows: the tables -> the same students on each state's scale and on the common
NAEP-like scale -> what states publish -> the practices (year-1 prevalence against Table 6.1,
change over three years) -> the programs' rollout -> the variance components.
Student-level rows are never printed (they are confidential in a real study).""")
code("""import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

import pdstats as pds
from pdstats.report import record_numbers, save_figure
from pdstats.simulate.scales import to_naep

sns.set_theme(style="whitegrid", context="notebook")""")
md("## The world and its tables")
code("""sim = pds.simulate.study(random_state=0, progress=False)
print(sim)
display(sim.summary().T)
display(sim.tables["states"])
display(sim.truth.states[["state", "publishes", "n_levels", "suppression_threshold", "stringency", "status_shift"]].round(2))""")
md("""## Native scales versus the NAEP-like scale

Each state reports on its own scale: a different location and spread and a mildly nonlinear
transform of true achievement, plus measurement error. Mapped back through the state's
transform, the same scores land on the common scale where the states can be compared. The
dashed lines are each state's proficient cut: on the NAEP scale they are tens of points apart.""")
code("""tests = sim.truth.state_tests
sc = sim.tables["student_scores"].query("grade == 4 and subject == 'math'").merge(
    tests, on=["state", "year", "grade", "subject"])
sc["naep_scale"] = to_naep(sc["scale_score"].to_numpy(), sc["ref_mean"], sc["ref_sd"],
                           sc["scale_location"], sc["scale_spread"], sc["nonlinearity"])
states = list(sim.tables["states"]["state"])
fig, axes = plt.subplots(2, len(states), figsize=(4 * len(states), 6.5))
for j, st in enumerate(states):
    d = sc[sc["state"] == st]
    prof = d.apply(lambda r: r[f"cut_{int(r['proficient_level']) - 1}"], axis=1).iloc[0]
    prof_naep = d.apply(lambda r: r[f"naep_cut_{int(r['proficient_level']) - 1}"], axis=1).iloc[0]
    sns.histplot(d["scale_score"], bins=30, ax=axes[0, j], color=f"C{j}")
    axes[0, j].axvline(prof, ls="--", color="k")
    axes[0, j].set(title=f"{st}: native scale", xlabel="scale score")
    sns.histplot(d["naep_scale"], bins=30, ax=axes[1, j], color=f"C{j}")
    axes[1, j].axvline(prof_naep, ls="--", color="k")
    axes[1, j].set(title=f"{st}: NAEP-like scale (proficient {prof_naep:.0f})", xlabel="NAEP-scale points", xlim=(120, 340))
fig.suptitle("Grade 4 math, 2005-2007: the same students on each state's scale and on the common scale", x=0.01, ha="left")
fig.tight_layout()
save_figure(fig, "sim_scores_native_vs_naep"); plt.show()""")
code("""prof_cut = tests.apply(lambda r: r[f"naep_cut_{int(r['proficient_level']) - 1}"], axis=1)
cuts = tests.assign(proficient_naep=prof_cut).query("year == 2005").pivot_table(
    index=["subject", "grade"], columns="state", values="proficient_naep").round(1)
display(cuts)
spread = (cuts.max(axis=1) - cuts.min(axis=1))
assert (spread > 25).all(), spread
naep = sim.tables["naep_state"].merge(tests, on=["state", "year", "grade", "subject"])
display(naep[["state", "year", "grade", "subject", "mean", "mean_se", "naep_mean"]].round(2))
assert ((naep["mean"] - naep["naep_mean"]).abs() < 4.5 * naep["mean_se"]).all()""")
md("""## What states publish

States differ in what they publish (means and SDs, counts per proficiency level with their own
number of levels, or both) and in the smallest cell they show; smaller cells are suppressed.""")
code("""agg = sim.tables["state_assessment_aggregates"]
pub = agg.assign(has_means=agg["mean_scale"].notna(), has_levels=agg["n_levels"].notna()).groupby(
    ["state", "unit_type"]).agg(cells=("n_tested", "size"), suppressed=("suppressed", "mean"),
                                means=("has_means", "mean"), levels=("has_levels", "mean"))
display(pub.round(3))
ax = sns.barplot(data=agg.assign(suppressed=agg["suppressed"].astype(float)), x="subgroup", y="suppressed",
                 hue="state", errorbar=None)
ax.set(ylabel="share of cells suppressed", title="Suppressed cells by subgroup and state (schools and districts)")
ax.tick_params(axis="x", rotation=45)
save_figure(ax, "sim_suppression"); plt.show()""")
md("""## Practices

Year-1 consensus evidence is generated so that the expected number of the 28 studied districts
showing each of the 48 cells equals the report's Table 6.1 count; practices then evolve with the
districts' latent practice index.""")
code("""sm = pds.practices.stage_matrix()
r = sim.tables["practice_ratings"].query("informant_role == 'consensus'")
counts = r.groupby(["year", "practice", "stage"], observed=True)["evidence"].sum().astype(float).reset_index()
y1 = counts[counts["year"] == 2005].pivot(index="practice", columns="stage", values="evidence")
pub61 = sm.assign(practice=sm["practice"].astype(str)).pivot(index="practice", columns="stage", values="n_districts").astype(float)
pub61 = pub61.loc[list(pds.practices.PRACTICES)]
y1 = y1.loc[pub61.index]
fig, axes = plt.subplots(1, 3, figsize=(15, 5), sharey=True)
for ax, (title, m) in zip(axes, [("Table 6.1 (published)", pub61), ("simulated, 2005", y1),
                                 ("simulated, 2007", counts[counts["year"] == 2007].pivot(index="practice", columns="stage", values="evidence").loc[pub61.index])]):
    sns.heatmap(m, annot=True, fmt=".0f", cmap="viridis", vmin=0, vmax=28, ax=ax, cbar=ax is axes[-1])
    ax.set(title=title, xlabel="stage", ylabel="")
fig.suptitle("Districts (of 28) showing each stage-matrix cell", x=0.01, ha="left")
fig.tight_layout()
save_figure(fig, "sim_practice_prevalence"); plt.show()
diff = (y1 - pub61).abs()
print(f"mean |simulated - published| over the 48 cells in 2005: {diff.to_numpy().mean():.2f} districts")""")
code("""pi = sim.truth.practice_index.query("studied")
tot = r.groupby(["district_id", "year"])["evidence"].sum().astype(float).rename("cells").reset_index().merge(pi, on=["district_id", "year"])
ax = sns.scatterplot(data=tot, x="index", y="cells", hue="year", palette="deep")
ax.set(xlabel="true latent practice index", ylabel="cells evidenced (of 48)", title="Evidence tracks the latent practice index")
save_figure(ax, "sim_practice_index"); plt.show()
corr = float(np.corrcoef(tot["index"], tot["cells"])[0, 1])
print(f"correlation {corr:.2f}")""")
md("""## Programs

Pay for performance is adopted by districts in staggered years (with a pre-period for every
adopter); a teacher-bonus experiment randomizes the teachers of one studied district.""")
code("""ad = sim.tables["program_adoption"]
p4p = ad.query("program == 'pay_for_performance'").merge(sim.tables["districts"][["district_id", "state", "studied"]],
                                                         left_on="unit_id", right_on="district_id")
years = sim.truth.params["years"]
grid = pd.DataFrame([(u, y, bool(pd.notna(f) and y >= f)) for u, f in zip(p4p["unit_id"], p4p["first_treated_year"])
                     for y in years], columns=["district", "year", "treated"])
order = p4p.sort_values(["first_treated_year", "state"], na_position="last")["unit_id"]
mat = grid.pivot(index="district", columns="year", values="treated").loc[order].astype(int)
fig, ax = plt.subplots(figsize=(5, 9))
sns.heatmap(mat, cmap=["#dddddd", "#c44e52"], cbar=False, linewidths=0.5, ax=ax)
ax.set(title="Pay-for-performance rollout (red = treated)", ylabel="district", xlabel="spring year")
save_figure(fig, "sim_program_rollout"); plt.show()
schools_on = ad.query("program == 'pay_for_performance' and unit_type == 'school'")
print("schools adopting on their own (in never-adopting districts), by first year:",
      schools_on["first_treated_year"].value_counts(dropna=False).to_dict())
exp = ad.query("program == 'teacher_bonus'")
print(f"teacher bonus experiment in district {sim.truth.params['experiment_district']}:",
      exp["arm"].value_counts().to_dict())
display(sim.truth.program_effects)""")
md("""## Variance components: truth against knobs

The true teacher, school and district contributions to one year of growth, with their knob
values; teacher effects drift year to year (AR(1)).""")
code("""p = sim.truth.params
eff = sim.truth.effects
first = eff[eff["year"] == years[0]]
vc = pd.DataFrame({
    "knob SD": [p["sd_teacher"], p["sd_school"], p["sd_district"]],
    "realized SD": [float(np.sqrt(np.mean(first.loc[first["level"] == lv, "base"] ** 2))) for lv in ("teacher", "school", "district")],
    "units": [int(first.loc[first["level"] == lv, "unit_id"].nunique()) for lv in ("teacher", "school", "district")]},
    index=["teacher", "school", "district"])
display(vc.round(2))
t = eff.query("level == 'teacher'").pivot_table(index=["unit_id", "subject"], columns="year", values="base")
ar = float(t[[years[0], years[1]]].dropna().corr().iloc[0, 1])
print(f"year-to-year correlation of teacher effects: {ar:.2f} (knob teacher_ar = {p['teacher_ar']})")
ax = sns.scatterplot(x=t[years[0]], y=t[years[1]], s=10, alpha=0.5)
ax.set(xlabel=f"teacher effect {years[0]}", ylabel=f"teacher effect {years[1]}", title="Teacher effects drift (AR(1))")
save_figure(ax, "sim_teacher_drift"); plt.show()
record_numbers("simulate", {
    "n_student_scores": int(len(sim.tables["student_scores"])),
    "n_districts": int(len(sim.tables["districts"])),
    "prevalence_mean_abs_diff": round(float(diff.to_numpy().mean()), 2),
    "proficient_cut_spread_min": round(float(spread.min()), 1),
    "teacher_ar_realized": round(ar, 3),
    "practice_index_corr": round(corr, 3),
})""")
NB.write("notebooks/05_simulated_world.ipynb")
