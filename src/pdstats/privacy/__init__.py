"""pdstats.privacy (see the package README)."""
