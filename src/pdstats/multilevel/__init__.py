"""pdstats.multilevel (see the package README)."""
