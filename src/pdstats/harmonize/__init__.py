"""pdstats.harmonize: state test results onto one comparable scale (see README.md here).

* :func:`standardize` - within state-year-grade-subject z-scores (the level-losing baseline);
* :func:`hetop` - group means/SDs from proficiency-level counts (HETOP, HOMOP, PHOP) on
  each state's standardized "star" scale, with delta-method standard errors;
* :func:`link_to_naep` - star-scale estimates onto the NAEP scale (and the
  cohort-standardized and grade-equivalent scales) with combined standard errors;
* :func:`estimate_linking_error` - linking bias and error SD from districts with NAEP
  (TUDA) results of their own (Reardon, Kalogrides & Ho 2021);
* :func:`estimate_interpolation_error` - how far state NAEP values interpolated to untested
  grades and years may stray (from differences between states at the tested ones);
* :func:`harmonize_aggregates` - the steps composed for a ``state_assessment_aggregates`` table;
* :func:`smd`, :func:`gaps` and :func:`v_statistic` - standardized mean differences and
  Ho & Reardon's V from level counts;
* :func:`naep_state_means` - published NAEP state means shipped for the real examples;
* :func:`coarsen_scores`, :func:`simulate_counts`, :func:`recovery_metrics` - recovery checks.
"""

from pdstats.harmonize._gaps import gaps, smd, v_statistic
from pdstats.harmonize._hetop import hetop
from pdstats.harmonize._standardize import standardize
from pdstats.harmonize.interpolation_error import estimate_interpolation_error
from pdstats.harmonize.linking import interpolate_naep, link_to_naep
from pdstats.harmonize.linking_error import estimate_linking_error
from pdstats.harmonize.pipeline import harmonize_aggregates
from pdstats.harmonize.recovery import coarsen_scores, recovery_metrics, simulate_counts
from pdstats.harmonize.reference import NATIONAL_SD_2003, naep_state_means
from pdstats.harmonize.results import (
    GapResult,
    HetopResult,
    InterpolationErrorResult,
    LinkingErrorResult,
    LinkResult,
)

__all__ = [
    "standardize",
    "hetop",
    "link_to_naep",
    "harmonize_aggregates",
    "estimate_linking_error",
    "estimate_interpolation_error",
    "interpolate_naep",
    "smd",
    "gaps",
    "v_statistic",
    "naep_state_means",
    "NATIONAL_SD_2003",
    "coarsen_scores",
    "simulate_counts",
    "recovery_metrics",
    "HetopResult",
    "LinkResult",
    "GapResult",
    "LinkingErrorResult",
    "InterpolationErrorResult",
]
