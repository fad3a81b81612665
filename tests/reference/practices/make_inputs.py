"""Write the input matrices that make_reference.R fits (run from the repo root).

    PYTHONPATH=src python tests/reference/practices/make_inputs.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

from pdstats.practices import reconstruct_year1
from pdstats.practices.scoring import evidence_matrix

OUT = Path(__file__).parent
data = reconstruct_year1(random_state=0)
ev = evidence_matrix(data["practice_ratings"]).reset_index(drop=True)
ev = ev.loc[:, ev.nunique() > 1]  # eRm cannot use items without variance
ev.to_csv(OUT / "input_cells.csv", index=False)

# practice scores 0-4 from all 48 cells (human_resources_s1, dropped above, is 1 everywhere)
full = evidence_matrix(data["practice_ratings"]).reset_index(drop=True)
practices = list(dict.fromkeys(c.rsplit("_s", 1)[0] for c in full.columns))
counts = pd.DataFrame({p: full[[f"{p}_s{s}" for s in (1, 2, 3, 4)]].sum(axis=1) for p in practices})
# collapse unobserved categories the way pdstats.practices.rasch.fit_pcm does
counts = counts.apply(lambda s: s.map({v: k for k, v in enumerate(sorted(s.unique()))}))
counts.to_csv(OUT / "input_counts.csv", index=False)

# simulated partial-credit data: 400 persons, 6 items with 4 categories
rng = np.random.default_rng(20240601)
theta = rng.normal(size=400)
steps = np.array([[-1.5, -0.5, 0.5], [-1.0, 0.0, 1.0], [-0.5, 0.3, 1.2],
                  [-2.0, -0.8, 0.4], [-0.2, 0.6, 1.6], [-1.2, 0.2, 0.9]])
x = np.empty((400, 6), dtype=int)
for i, st in enumerate(steps):
    z = np.cumsum(theta[:, None] - st[None, :], axis=1)
    z = np.column_stack([np.zeros(400), z])
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    x[:, i] = [rng.choice(4, p=row) for row in p]
pd.DataFrame(x, columns=[f"I{i + 1}" for i in range(6)]).to_csv(OUT / "input_sim_pcm.csv", index=False)
np.savetxt(OUT / "input_sim_pcm_truth.csv", steps, delimiter=",", header="step1,step2,step3",
           comments="")
print("written", ev.shape, counts.shape, x.shape)
