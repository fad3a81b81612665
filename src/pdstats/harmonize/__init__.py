"""pdstats.harmonize (see the package README)."""
