"""pdstats.evaluate: program evaluation under staggered adoption (difference in differences).

* :func:`panel` - the analysis panel of a program from the study store;
* :func:`staggered_did` - Callaway & Sant'Anna group-time effects and their aggregations;
* :func:`sun_abraham`, :func:`imputation` - heterogeneity-robust event studies;
* :func:`twfe`, :func:`bacon` - two-way fixed effects and its Goodman-Bacon decomposition;
* :func:`randomized` - randomized trials (individual, cluster, blocked; ITT, IV);
* :func:`effect_size` - student-SD units, Hedges' g and the WWC improvement index of
  any result;
* :func:`rollout_power` - simulated power of a staggered rollout (``pds.power`` has the
  analytic power of randomized designs);
* :func:`honest_did` - Rambachan & Roth sensitivity of an event study;
* :func:`rd` - regression discontinuity at a cut on a score (rdrobust, rddensity);
* :func:`randomization_test` - randomization inference over adoption timing for any
  estimator (few adopting districts); ``twfe(...).wild_bootstrap`` the wild cluster
  bootstrap.

Library choice and parity measurements: ``pdstats/evaluate/README.md``.

Examples
--------
>>> import pdstats as pds
>>> callable(pds.evaluate.staggered_did)
True
"""

from pdstats.evaluate.effect_size import EffectSizeResult, effect_size
from pdstats.evaluate.eventstudy import imputation, sun_abraham
from pdstats.evaluate.honest import HonestDiDResult, honest_did
from pdstats.evaluate.panel import ProgramPanel, panel
from pdstats.evaluate.randomization import randomization_test
from pdstats.evaluate.randomized import randomized
from pdstats.evaluate.randomized_results import RandomizedResult
from pdstats.evaluate.rd import RDResult, rd
from pdstats.evaluate.results import AggregateResult, EventStudyResult, StaggeredDiDResult
from pdstats.evaluate.rollout_power import rollout_panel, rollout_power
from pdstats.evaluate.staggered import staggered_did
from pdstats.evaluate.twfe import BaconResult, TWFEResult, bacon, twfe

__all__ = [
    "AggregateResult",
    "BaconResult",
    "EffectSizeResult",
    "EventStudyResult",
    "HonestDiDResult",
    "StaggeredDiDResult",
    "ProgramPanel",
    "RDResult",
    "RandomizedResult",
    "TWFEResult",
    "bacon",
    "effect_size",
    "honest_did",
    "imputation",
    "panel",
    "randomization_test",
    "rd",
    "randomized",
    "rollout_panel",
    "rollout_power",
    "staggered_did",
    "sun_abraham",
    "twfe",
]
