"""pdstats.multilevel: linear mixed-effects models in lme4's formulation.

The fit is a pipeline of small steps, each callable alone:

* :mod:`~pdstats.multilevel.formula` - parse ``y ~ x + (x | g)`` formulas;
* :mod:`~pdstats.multilevel.design` - model matrices and the sample log;
* :mod:`~pdstats.multilevel.deviance` - profiled (REML) deviance via a blocked Cholesky;
* :mod:`~pdstats.multilevel.optimize` - bounded minimization over theta;
* :mod:`~pdstats.multilevel.model` / :mod:`~pdstats.multilevel.results` - the front end;
* :mod:`~pdstats.multilevel.inference` - Satterthwaite / Kenward-Roger df, LR tests;
* :mod:`~pdstats.multilevel.covariance` - reliabilities (CR2: :mod:`pdstats.inference.mixed`);
* :mod:`~pdstats.multilevel.bootstrap` - parametric bootstrap.

Examples
--------
>>> import pdstats as pds
>>> from pdstats.data.datasets import load_rdataset
>>> ss = load_rdataset("lme4", "sleepstudy")
>>> fit = pds.lmm("Reaction ~ Days + (Days | Subject)", ss)
>>> round(float(fit.fe.loc["Days", "estimate"]), 3)
10.467
"""

from pdstats.multilevel.bootstrap import BootstrapResult, parametric_bootstrap
from pdstats.multilevel.formula import parse_formula
from pdstats.multilevel.inference import lrtest
from pdstats.multilevel.model import LMM, lmm
from pdstats.multilevel.results import LMMResult

__all__ = [
    "LMM",
    "LMMResult",
    "BootstrapResult",
    "lmm",
    "lrtest",
    "parametric_bootstrap",
    "parse_formula",
]
