"""pdstats.vam: value-added of teachers, schools and districts, and growth percentiles.

* :func:`value_added` - ``ols``, Kane-Staiger ``eb``, Chetty-Friedman-Rockoff ``cfr``
  (drift-adjusted leave-year-out, Stepner's ``vam`` algorithm with standard errors),
  ``fe`` and ``re``; returns a :class:`VAResult`.

Examples
--------
>>> import pdstats as pds
>>> "cfr" in pds.vam.METHODS
True
"""

from pdstats.vam.model import METHODS, value_added
from pdstats.vam.results import VAResult

__all__ = ["METHODS", "VAResult", "value_added"]
