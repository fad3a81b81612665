"""Privacy: small-cell suppression, pseudonymous ids and a guard for shared outputs.

Student-level tables are confidential. Published tables suppress counts below a
threshold (and, where a suppressed cell could be recovered from a row total, the next
smallest cell too), ids are replaced by keyed pseudonyms, and :func:`check_shareable`
refuses a table that still carries student-level identifiers.
"""

from pdstats.privacy.suppress import (
    PrivacyError,
    check_shareable,
    pseudonymize,
    suppress_small_cells,
)

__all__ = ["PrivacyError", "check_shareable", "pseudonymize", "suppress_small_cells"]
