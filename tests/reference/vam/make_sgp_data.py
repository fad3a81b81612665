"""Write sgp_data.csv, the fixed data set of the quantreg::rq reference (run once; committed).

Two correlated prior scores and a nonlinear, heteroskedastic, heavy-tailed outcome.
"""
import numpy as np
import pandas as pd

rng = np.random.default_rng(20261201)
n = 1500
p1 = rng.normal(500, 50, n)
p2 = 0.7 * (p1 - 500) + rng.normal(0, 35, n) + 480
y = (30 + 0.6 * p1 + 0.25 * p2 + 0.002 * (p1 - 500) ** 2
     + (20 + 0.15 * np.abs(p1 - 500)) * rng.standard_t(6, n))
pd.DataFrame({"prior1": np.round(p1, 2), "prior2": np.round(p2, 2),
              "score": np.round(y, 2)}).to_csv("sgp_data.csv", index=False)
