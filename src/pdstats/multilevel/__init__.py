"""pdstats.multilevel: linear mixed-effects models in lme4's formulation.

The fit is a pipeline of small steps, each callable alone:

* :mod:`~pdstats.multilevel.formula` - parse ``y ~ x + (x | g)`` formulas;
* :mod:`~pdstats.multilevel.design` - model matrices and the sample log, with the input
  checks of :mod:`~pdstats.multilevel._checks` (non-finite values refused, missing rows
  dropped with a warning; lme4's refusals: one-level grouping factors, a constant
  response, collinear random terms);
* :mod:`~pdstats.multilevel.deviance` - profiled (REML) deviance via a blocked Cholesky
  (:mod:`~pdstats.multilevel.crossed` for crossed and multiple-membership designs) and its
  analytic gradient in theta;
* :mod:`~pdstats.multilevel.membership` - multiple membership, ``(1 | mm(t1 + t2, w1 + w2))``;
* :mod:`~pdstats.multilevel.optimize` - bounded minimization over theta: L-BFGS-B with the
  analytic gradient where it is available (nested designs; crossed ones whose Schur
  complement is dense), NLopt's BOBYQA (lme4's optimizer) otherwise, as a fallback and
  as ``optimizer="bobyqa"``;
* :mod:`~pdstats.multilevel.model` / :mod:`~pdstats.multilevel.results` - the front end;
  ``LMMResult.estimates`` is the fixed-effects table (``.fe`` is the same indexed by term);
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
from pdstats.multilevel.membership import wide_membership
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
    "wide_membership",
]
