"""pdstats.simulate (see the package README)."""
