"""pdstats.vam: value-added of teachers, schools and districts, and growth percentiles.

* :func:`value_added` - ``ols``, Kane-Staiger ``eb``, Chetty-Friedman-Rockoff ``cfr``
  (drift-adjusted leave-year-out, Stepner's ``vam`` algorithm with standard errors),
  ``fe`` and ``re``; returns a :class:`VAResult`.
* :func:`classify` - ranks with intervals, probability above a bonus cut, expected
  misclassification;
* :func:`forecast_bias`, :func:`placebo_test`, :func:`stability`,
  :func:`transition_matrix` - validity diagnostics;
* :func:`analysis_file` - the analysis file from the ``enrollments`` and
  ``student_scores`` tables (standardized current and prior-year scores, CSEMs);
* :func:`sgp` - student growth percentiles (Betebenner's SGP conventions) with unit
  median/mean growth percentiles and bootstrap SEs; returns an :class:`SGPResult`.

Every function checks its input by the package's one rule (:mod:`pdstats._inputs`):
missing values drop the row (logged in ``sample_log``, with a warning), ``+-inf``, text
that is not a number and values outside a column's range (a dosage outside [0, 1]) are
refused. Every result has ``.estimates`` (the result contract); a standard error that
cannot be estimated is NaN with ``flag=True``, never 0.

Examples
--------
>>> import pdstats as pds
>>> "cfr" in pds.vam.METHODS
True
"""

from pdstats.vam.classification import ClassificationResult, classify
from pdstats.vam.diagnostics import forecast_bias, placebo_test, stability, transition_matrix
from pdstats.vam.growth_percentiles import SGPResult, sgp
from pdstats.vam.model import METHODS, value_added
from pdstats.vam.panel import analysis_file
from pdstats.vam.results import VAResult

__all__ = [
    "METHODS",
    "analysis_file",
    "ClassificationResult",
    "SGPResult",
    "VAResult",
    "classify",
    "forecast_bias",
    "placebo_test",
    "sgp",
    "stability",
    "transition_matrix",
    "value_added",
]
