"""pdstats.inference: small-sample inference shared by every regression in pdstats.

* :func:`ols` (``pds.ols``) - least squares / WLS with CR2 standard errors and
  Bell-McCaffrey df by default;
* :mod:`~pdstats.inference.covariance` - CR0/CR1/CR2 for OLS, WLS and GLS / mixed-model
  fixed effects, computed per cluster in the span of a small basis
  (:mod:`~pdstats.inference.algebra`), never with n_g x n_g matrices where the model
  allows;
* :mod:`~pdstats.inference.wald` - Wald tests with the Hotelling-T^2 ("HTZ") F;
* :mod:`~pdstats.inference.wild` - the wild cluster bootstrap (restricted and
  unrestricted; Rademacher, Mammen, Webb) with intervals by test inversion;
* :mod:`~pdstats.inference.randomization` - randomization inference for assigned
  treatments (complete, blocked, clustered, adoption timing);
* :mod:`~pdstats.inference.mixed` - the same for ``pds.lmm`` fits
  (``LMMResult.cr2(cluster=...)``, ``wild_bootstrap_lmm``).

Examples
--------
>>> import numpy as np, pandas as pd, pdstats as pds
>>> rng = np.random.default_rng(0)
>>> d = pd.DataFrame({"g": np.repeat(np.arange(10), 8), "x": rng.normal(size=80)})
>>> d["y"] = d.x + rng.normal(size=10)[d.g] + rng.normal(size=80)
>>> pds.inference.ols("y ~ x", d, cluster="g").estimates["term"].tolist()
['Intercept', 'x']
"""

from pdstats.inference.covariance import robust_covariance
from pdstats.inference.mixed import lmm_cr2, lmm_robust_covariance, wild_bootstrap_lmm
from pdstats.inference.ols import ols
from pdstats.inference.randomization import randomization_test
from pdstats.inference.results import (
    OLSResult,
    RandomizationResult,
    WaldTestResult,
    WildBootstrapResult,
)
from pdstats.inference.wald import wald_test
from pdstats.inference.wild import wild_bootstrap

__all__ = [
    "OLSResult",
    "RandomizationResult",
    "WaldTestResult",
    "WildBootstrapResult",
    "lmm_cr2",
    "lmm_robust_covariance",
    "ols",
    "randomization_test",
    "robust_covariance",
    "wald_test",
    "wild_bootstrap",
    "wild_bootstrap_lmm",
]
