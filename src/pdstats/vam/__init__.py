"""pdstats.vam (see the package README)."""
