"""pdstats.practices: the stage matrix of performance-driven practices (see README.md).

The instrument of the year-1 report (Table 6.1, the interview protocol, the informant
roles), every number the report publishes, a district-level reconstruction that
reproduces them, the report's tables recomputed from district-level data, practice
scores (highest stage, counts, indices, Rasch / partial-credit scaling), scalability
(Guttman, Mokken), informant agreement and reliability, and a self-assessment.

>>> import pdstats as pds
>>> len(pds.practices.stage_matrix())
48
"""

from pdstats.practices._agreement import (
    AgreementResult,
    agreement,
    cronbach_alpha,
    fleiss_kappa,
    krippendorff_alpha,
    omega_total,
    reliability,
)
from pdstats.practices._scalability import (
    ScalabilityResult,
    guttman_reproducibility,
    loevinger_h,
    loevinger_h_ordinal,
    scalability,
)
from pdstats.practices._self_assessment import (
    SelfAssessmentResult,
    questionnaire,
    self_assessment,
)
from pdstats.practices.facts import NUMBERED, year1_facts
from pdstats.practices.instrument import (
    GROUPS,
    LAYOUT_NOTE,
    PRACTICES,
    ROLES,
    STAGES,
    case_prompts,
    informant_roles,
    interview_protocol,
    item_ids,
    stage_matrix,
)
from pdstats.practices.rasch import PCMResult, fit_pcm
from pdstats.practices.reconstruct import RECONSTRUCTION_NOTE, reconstruct_year1
from pdstats.practices.scoring import METHODS, ScoreResult, evidence_matrix, score
from pdstats.practices.tables import combine_informants, compare_with_published, year1_tables

# former class names (before the one result contract), kept so existing code keeps working
PCMResults = PCMResult
ScalabilityResults = ScalabilityResult
ScoreResults = ScoreResult
SelfAssessmentResults = SelfAssessmentResult
AgreementResults = AgreementResult

__all__ = [
    "GROUPS",
    "LAYOUT_NOTE",
    "METHODS",
    "AgreementResult",
    "PCMResult",
    "ScalabilityResult",
    "ScoreResult",
    "SelfAssessmentResult",
    "agreement",
    "cronbach_alpha",
    "evidence_matrix",
    "fit_pcm",
    "fleiss_kappa",
    "guttman_reproducibility",
    "krippendorff_alpha",
    "loevinger_h",
    "loevinger_h_ordinal",
    "omega_total",
    "questionnaire",
    "reliability",
    "scalability",
    "score",
    "self_assessment",
    "NUMBERED",
    "PRACTICES",
    "RECONSTRUCTION_NOTE",
    "ROLES",
    "STAGES",
    "case_prompts",
    "combine_informants",
    "compare_with_published",
    "informant_roles",
    "interview_protocol",
    "item_ids",
    "reconstruct_year1",
    "stage_matrix",
    "year1_facts",
    "year1_tables",
]
