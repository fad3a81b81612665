"""pdstats.harmonize: state test results onto one comparable scale.

* :func:`standardize` - within state-year-grade-subject z-scores (the level-losing baseline);
* :func:`hetop` - group means/SDs from proficiency-level counts (HETOP, HOMOP, PHOP) on
  each state's standardized "star" scale, with delta-method standard errors;
* :func:`link_to_naep` - star-scale estimates onto the NAEP scale (and the
  cohort-standardized and grade-equivalent scales) with combined standard errors;
* :func:`gaps` and :func:`v_statistic` - standardized mean differences and Ho & Reardon's
  V from level counts.
"""

from pdstats.harmonize.hetop import hetop
from pdstats.harmonize.results import GapResult, HetopResult, LinkResult

__all__ = ["hetop", "HetopResult", "LinkResult", "GapResult"]
