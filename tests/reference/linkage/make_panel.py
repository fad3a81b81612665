"""Write tests/reference/linkage/district_panel.csv: the district model's rows in the default world.

The analysis panel of ``pds.simulate.study(random_state=0)`` (math): cohort growth of each
studied district, year and grade with its known sampling variance, the practice index and
pay-for-performance. make_reference.R fits the same meta-regression with metafor + clubSandwich.
Run from the repository root: PYTHONPATH=src python tests/reference/linkage/make_panel.py
"""
import warnings

import pdstats as pds

warnings.simplefilter("ignore")
panel = pds.linkage.analysis_panel(pds.simulate.study(random_state=0, progress=False), subject="math")
d = panel.data.assign(district_year=lambda x: x["district_id"] + ":" + x["year"].astype(str))
cols = ["district_id", "district_year", "cell", "growth", "var_growth", "practice_index", "p4p"]
d[cols].to_csv("tests/reference/linkage/district_panel.csv", index=False, float_format="%.10g")
