"""pdstats.simulate: simulated three-year study worlds with known truth (see README.md).

>>> import pdstats as pds
>>> sim = pds.simulate.study(random_state=0, n_states=1, n_districts=2, years=(2005,),
...                          n_comparison=0, progress=False)
>>> sim.truth.state_tests[["state", "grade"]].drop_duplicates().shape[0]
6
"""

from pdstats.simulate.params import DEFAULTS, SIZES, SimulationSpecError
from pdstats.simulate.runner import ValidationResult, run
from pdstats.simulate.study import SimulatedStudy, SimulationTruth, study

__all__ = ["DEFAULTS", "SIZES", "SimulatedStudy", "SimulationSpecError", "SimulationTruth", "ValidationResult",
           "run", "study"]
