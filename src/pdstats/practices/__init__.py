"""pdstats.practices (see the package README)."""
