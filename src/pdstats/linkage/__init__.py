"""pdstats.linkage: do performance-driven practices predict achievement growth?

Joins the study's stages - achievement on the NAEP-linked scale (:mod:`pdstats.harmonize`),
practice scores with standard errors (:mod:`pdstats.practices`), growth and value-added
models (:func:`pdstats.lmm`, :mod:`pdstats.vam`) - into one analysis panel and estimates
the link four ways, correcting for measurement error in the practice scores, with
few-cluster inference (:mod:`pdstats.inference`) and the design's power
(:mod:`pdstats.power`). See ``README.md``.

>>> import pdstats as pds
>>> pds.linkage.MODELS
('district', 'student', 'within', 'value_added')
"""

from pdstats.linkage.dose import DoseResult, stage_transitions
from pdstats.linkage.measurement import conditional_reliability, true_score_sd
from pdstats.linkage.models import MODELS, practice_growth
from pdstats.linkage.panel import PanelResult, analysis_panel
from pdstats.linkage.power import design_power, mdes_table
from pdstats.linkage.results import LinkageResult
from pdstats.linkage.scores import INDEX, practice_scores

__all__ = [
    "DoseResult",
    "INDEX",
    "MODELS",
    "LinkageResult",
    "PanelResult",
    "analysis_panel",
    "conditional_reliability",
    "design_power",
    "mdes_table",
    "practice_growth",
    "practice_scores",
    "stage_transitions",
    "true_score_sd",
]
