"""Regenerate tests/reference/evaluate/ehec_event_study.json: the input of the HonestDiD
package's documented example (README of asheshrambachan/HonestDiD, "Example usage -
Medicaid expansions").

The README runs, in R,
    feols(dins ~ i(year, D, ref = 2013) | stfips + year, cluster = "stfips",
          data = ehec[year < 2016 & (is.na(yexp2) | yexp2 != 2015)])
and passes the 7 coefficients and their clustered covariance to HonestDiD. pyfixest
0.60.0 (a port of fixest with the same small-sample corrections) reruns that regression
here on the same ACS-derived data (``moderndid.load_ehec()``, the Mixtape
``ehec_data.dta``). The README's printed sensitivity tables are in the test itself.

Run: python tests/reference/evaluate/make_ehec_event_study.py
"""

import json
import pathlib

import moderndid
import numpy as np
import pyfixest as pf

df = moderndid.load_ehec()
df = df.to_pandas() if hasattr(df, "to_pandas") else df
df = df[(df["year"] < 2016) & (df["yexp2"].isna() | (df["yexp2"] != 2015))].copy()
df["D"] = (df["yexp2"] == 2014).astype(float)
for y in sorted(df["year"].unique()):
    if y != 2013:
        df[f"D_{int(y)}"] = df["D"] * (df["year"] == y)
terms = [c for c in df.columns if c.startswith("D_")]
fit = pf.feols(f"dins ~ {' + '.join(terms)} | stfips + year", data=df, vcov={"CRV1": "stfips"})
beta = fit.coef()[terms].to_numpy()
idx = [list(fit.coef().index).index(t) for t in terms]
sigma = np.asarray(fit._vcov)[np.ix_(idx, idx)]
out = {"source": "pyfixest 0.60.0 feols on moderndid.load_ehec(), as HonestDiD README",
       "terms": terms, "betahat": beta.tolist(), "sigma": np.asarray(sigma).tolist()}
path = pathlib.Path(__file__).with_name("ehec_event_study.json")
path.write_text(json.dumps(out, indent=1))
print(out["betahat"])
