"""pdstats.figures (see the package README)."""
