"""pdstats.evaluate (see the package README)."""
