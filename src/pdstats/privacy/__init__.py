"""Privacy: one disclosure gate for everything a study shares.

* :func:`protect` is the gate: primary suppression of cells resting on fewer than
  ``min_n`` students, top/bottom coding of percentages, and complementary suppression
  verified by linear programming (no hidden cell can be worked out to within ``min_n / 2``
  from rows, columns, declared totals, subgroup totals or tables published together);
* :func:`pseudonymize` replaces ids by keyed HMAC-SHA256 pseudonyms of at least 128 bits;
* :func:`identifier_columns` / :func:`student_level_columns` recognise person ids and
  tables of students, which the gate and the scanner refuse;
* :func:`write_disclosure_report` writes what was hidden and why beside the outputs, and
  :func:`scan_outputs` checks every shared file of an output folder.
"""

from pdstats.errors import PrivacyError
from pdstats.privacy.gate import REASONS, ProtectedTable, check_min_n, protect
from pdstats.privacy.identifiers import (
    IDENTIFIER_PATTERN,
    STUDENT_COUNT_PATTERN,
    identifier_columns,
    student_level_columns,
)
from pdstats.privacy.pseudonyms import KEY_VARIABLE, pseudonymize
from pdstats.privacy.report import write_disclosure_report
from pdstats.privacy.scan import check_frame, frame_findings, scan_outputs
from pdstats.privacy.study_tables import AGGREGATE_SUBGROUPS, protect_aggregates, share_study_tables

__all__ = [
    "AGGREGATE_SUBGROUPS",
    "IDENTIFIER_PATTERN",
    "KEY_VARIABLE",
    "PrivacyError",
    "ProtectedTable",
    "REASONS",
    "STUDENT_COUNT_PATTERN",
    "check_frame",
    "check_min_n",
    "frame_findings",
    "identifier_columns",
    "protect",
    "protect_aggregates",
    "pseudonymize",
    "scan_outputs",
    "share_study_tables",
    "student_level_columns",
    "write_disclosure_report",
]
