"""The district model equals metafor::rma.mv + clubSandwich (tests/reference/linkage/)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd

from pdstats.linkage.models import _fit_one

REF = Path(__file__).parents[1] / "reference" / "linkage"


def test_district_model_matches_metafor_clubsandwich():
    d = pd.read_csv(REF / "district_panel.csv", dtype={"district_id": str})
    ref = json.loads((REF / "district_model.json").read_text())
    d = d.rename(columns={"practice_index": "score"})
    row, fit = _fit_one(d, "growth", "var_growth", ["p4p"], "district")
    r = {t["term"]: t for t in ref["terms"]}
    np.testing.assert_allclose(row["estimate"], r["practice_index"]["estimate"], rtol=1e-4)
    np.testing.assert_allclose(row["std_error"], r["practice_index"]["std_error"], rtol=1e-4)
    np.testing.assert_allclose(row["df"], r["practice_index"]["df"], rtol=1e-4)
    p4p = fit.cr2(cluster="district_id").loc["p4p"]
    np.testing.assert_allclose(p4p[["estimate", "std_error", "df"]].to_numpy(float),
                               [r["p4p"][k] for k in ("estimate", "std_error", "df")], rtol=1e-4)
    vc = fit.varcomp.set_index("group")["estimate"]
    np.testing.assert_allclose(vc["district_id"], ref["sigma2"][0], rtol=1e-4)
