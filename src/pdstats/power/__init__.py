"""pdstats.power: minimum detectable effects, power and sample sizes of multilevel designs.

* :func:`mdes`, :func:`power`, :func:`sample_size` - analytic, for two- and three-level
  designs with a treatment or a continuous (possibly unreliable) predictor at any level, in
  the general form of :mod:`pdstats.power.design` (PowerUp!'s formulas are special cases);
* :func:`simulate_power` - power of a cluster-randomized design by simulation, through
  :func:`pdstats.simulate.run`;
* :class:`PowerResult` - design quantities in ``.design``, the effect with the design's
  standard error in ``.estimates``, a power curve in ``.plot()``.

Examples
--------
>>> import pdstats as pds
>>> res = pds.power.mdes(levels=2, assigned_at=2, n_clusters=40, cluster_size=60, icc=0.2)
>>> round(res.mdes, 3)
0.42
"""

from pdstats.power.calculate import mdes, power, sample_size
from pdstats.power.design import Design
from pdstats.power.results import PowerResult
from pdstats.power.simulate import cluster_means_test, cluster_trial, simulate_power

__all__ = ["Design", "PowerResult", "cluster_means_test", "cluster_trial", "mdes", "power", "sample_size",
           "simulate_power"]
