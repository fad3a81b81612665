"""Data: the data dictionary, validation, readers, the study store and example data.

>>> import pdstats as pds
>>> sorted(pds.data.table_names())[:3]
['cut_scores', 'districts', 'enrollments']
"""

from pdstats.data.config import StudyConfig, config_for_store, load_config
from pdstats.data.datasets import load_rdataset
from pdstats.data.dictionary import Field, TableSchema, schema, table_names
from pdstats.data.readers import read_table
from pdstats.data.store import Study
from pdstats.data.validate import validate

__all__ = ["Field", "Study", "StudyConfig", "TableSchema", "config_for_store", "load_config", "load_rdataset",
           "read_table", "schema", "table_names", "validate"]
