"""pdstats.report: everything that leaves the analysis - numbers, tables, figures, the paper.

* :func:`table` - any pdstats results side by side (markdown, HTML, LaTeX);
* :func:`save_figure`, :meth:`EstimatesTable.write` - figures and tables written under
  ``$PDSTATS_OUTPUT``, each through :func:`release`, the one gate shared outputs pass;
* :func:`record_numbers` - the numbers the manuscript quotes;
* :func:`~pdstats.report.paper.build_paper` - the filled manuscript and its HTML;
* :func:`~pdstats.report.record.write_record` - the run's reproducibility record;
* :mod:`pdstats.report.study` - what the yearly study notebooks share.

Examples
--------
>>> import pdstats as pds
>>> callable(pds.report.table) and callable(pds.report.release)
True
"""

from pdstats.report.numbers import collect_numbers, fill_placeholders, format_number, record_numbers
from pdstats.report.output import (
    output_dir,
    release,
    save_figure,
    suppression_threshold,
    write_frame,
)
from pdstats.report.tables import EstimatesTable, table

__all__ = [
    "EstimatesTable",
    "collect_numbers",
    "fill_placeholders",
    "format_number",
    "output_dir",
    "record_numbers",
    "release",
    "save_figure",
    "suppression_threshold",
    "table",
    "write_frame",
]
