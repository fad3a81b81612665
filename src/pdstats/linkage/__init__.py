"""pdstats.linkage (see the package README)."""
