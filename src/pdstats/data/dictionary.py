"""The data dictionary: machine-readable table schemas, the single source of truth.

Each table of a pdstats study is described by one Frictionless Table Schema file in
``data_dictionary/<table>.yaml`` (fields with type, description, unit and constraints,
missing-value codes, primary key, foreign keys). pdstats adds two properties to the
standard: ``rules`` (named cross-field rules, implemented in :mod:`pdstats.data.rules`),
``sensitive`` (student-level tables that must never be shown row by row) and, on fields,
``bounds`` (the field's plausible range read row by row from another table, e.g. a scale
score within its test's lowest and highest obtainable scale score in ``cut_scores``) and
``allowNonFinite`` (``+-inf`` accepted; no field uses it today).

Every numeric field states a plausible range (``minimum``/``exclusiveMinimum`` and
``maximum``/``exclusiveMaximum``, or an ``enum``); a schema without one is refused, so no
number of any size or ``inf`` can reach the store.
``data_dictionary/README.md`` is generated from the schemas by :func:`write_readme`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pdstats.errors import SchemaError

__all__ = ["Field", "TableSchema", "schema", "table_names", "dictionary_dir", "render_readme", "write_readme"]

FIELD_TYPES = {"string", "integer", "number", "boolean"}
PANDAS_DTYPES = {"string": "string", "integer": "Int64", "number": "float64", "boolean": "boolean"}
DUCKDB_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"}
KNOWN_CONSTRAINTS = {
    "required", "unique", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
}  # fmt: skip


def dictionary_dir() -> Path:
    """Folder holding the schema files (``data_dictionary/`` of the repository)."""
    return Path(__file__).resolve().parent / "dictionary"


@dataclass(frozen=True)
class Field:
    """One column of a table schema."""

    name: str
    type: str
    description: str = ""
    unit: str | None = None
    constraints: dict[str, Any] = field(default_factory=dict)
    bounds: dict[str, Any] | None = None
    allow_non_finite: bool = False

    @property
    def required(self) -> bool:
        """Whether a value must be present in every row."""
        return bool(self.constraints.get("required", False))

    @property
    def dtype(self) -> str:
        """The pandas dtype values of this field are coerced to."""
        return PANDAS_DTYPES[self.type]


@dataclass(frozen=True)
class TableSchema:
    """A table of the data dictionary (see :func:`schema`)."""

    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[dict[str, Any], ...] = ()
    missing_values: tuple[str, ...] = ("",)
    rules: tuple[str, ...] = ()
    sensitive: bool = False

    @property
    def columns(self) -> list[str]:
        """Column names in schema order."""
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        """The field called ``name`` (SchemaError if the table has none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise SchemaError(f"table {self.name!r} has no column {name!r}; columns: {self.columns}")

    def empty_frame(self) -> pd.DataFrame:
        """A zero-row DataFrame with the schema's columns and dtypes."""
        return pd.DataFrame({f.name: pd.Series(dtype=f.dtype) for f in self.fields})

    def references(self) -> list[tuple[list[str], str, list[str]]]:
        """Foreign keys as ``(fields, referenced table, referenced fields)``."""
        out = []
        for fk in self.foreign_keys:
            ref = fk["reference"]
            out.append((list(fk["fields"]), ref["resource"], list(ref["fields"])))
        return out

    def lookups(self) -> list[tuple[list[str], str, list[str]]]:
        """Tables this one reads row by row: foreign keys, then fields' ``bounds`` tables.

        Each entry is ``(fields, table, that table's columns needed)``.
        """
        out = self.references()
        for f in self.fields:
            if f.bounds:
                b = f.bounds
                out.append((list(b["fields"]), b["resource"], [*b["fields"], b["minimum"], b["maximum"]]))
        return out


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _bounded(f: Field) -> bool:
    c = f.constraints
    low = "minimum" in c or "exclusiveMinimum" in c
    high = "maximum" in c or "exclusiveMaximum" in c
    return "enum" in c or (low and high)


def _parse(raw: dict[str, Any], path: Path) -> TableSchema:
    where = f"schema file {path.name}"
    try:
        fields = []
        for f in raw["fields"]:
            if f["type"] not in FIELD_TYPES:
                raise SchemaError(f"{where}: field {f['name']!r} has unknown type {f['type']!r}")
            unknown = set(f.get("constraints", {})) - KNOWN_CONSTRAINTS
            if unknown:
                raise SchemaError(f"{where}: field {f['name']!r} has unknown constraints {unknown}")
            fields.append(
                Field(
                    name=f["name"],
                    type=f["type"],
                    description=str(f.get("description", "")),
                    unit=f.get("unit"),
                    constraints=dict(f.get("constraints", {})),
                    bounds=f.get("bounds"),
                    allow_non_finite=bool(f.get("allowNonFinite", False)),
                )
            )
            if fields[-1].type in ("integer", "number") and not _bounded(fields[-1]):
                raise SchemaError(
                    f"{where}: numeric field {f['name']!r} states no plausible range "
                    "(minimum or exclusiveMinimum, and maximum or exclusiveMaximum, or an enum)"
                )
        sch = TableSchema(
            name=raw["name"],
            title=raw.get("title", raw["name"]),
            description=" ".join(str(raw.get("description", "")).split()),
            fields=tuple(fields),
            primary_key=tuple(_as_list(raw.get("primaryKey", []))),
            foreign_keys=tuple(raw.get("foreignKeys", [])),
            missing_values=tuple(str(v) for v in raw.get("missingValues", [""])),
            rules=tuple(raw.get("rules", [])),
            sensitive=bool(raw.get("sensitive", False)),
        )
    except KeyError as exc:
        raise SchemaError(f"{where}: missing property {exc}") from exc
    if sch.name != path.stem:
        raise SchemaError(f"{where}: name {sch.name!r} differs from the file name")
    missing = [c for c in sch.primary_key if c not in sch.columns]
    if missing:
        raise SchemaError(f"{where}: primary key names unknown columns {missing}")
    return sch


@cache
def _load_all() -> dict[str, TableSchema]:
    folder = dictionary_dir()
    if not folder.is_dir():
        raise SchemaError(f"data dictionary folder not found at {folder}")
    out = {}
    for path in sorted(folder.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            out[path.stem] = _parse(yaml.safe_load(fh), path)
    for sch in out.values():
        for _, ref_table, ref_fields in sch.references():
            if ref_table not in out:
                raise SchemaError(f"table {sch.name!r} references unknown table {ref_table!r}")
            bad = [c for c in ref_fields if c not in out[ref_table].columns]
            if bad:
                raise SchemaError(f"table {sch.name!r} references unknown columns {bad} of {ref_table!r}")
        for cols, ref_table, needed in sch.lookups():
            if ref_table not in out or not set(needed) <= set(out[ref_table].columns) or not set(cols) <= set(sch.columns):
                raise SchemaError(f"table {sch.name!r}: bounds name unknown table or columns {ref_table}.{needed}")
    return out


def table_names() -> list[str]:
    """Names of every table in the data dictionary.

    Examples
    --------
    >>> import pdstats as pds
    >>> "districts" in pds.data.table_names()
    True
    """
    return list(_load_all())


def schema(name: str) -> TableSchema:
    """The schema of table ``name``, read from ``data_dictionary/<name>.yaml``.

    Parameters
    ----------
    name : str
        Table name, e.g. ``"state_assessment_aggregates"``.

    Returns
    -------
    TableSchema
        Fields, primary key, foreign keys, missing-value codes and cross-field rules.

    Raises
    ------
    SchemaError
        If the dictionary has no such table.

    Examples
    --------
    >>> import pdstats as pds
    >>> pds.data.schema("cut_scores").primary_key
    ('state', 'year', 'grade', 'subject')
    """
    tables = _load_all()
    if name not in tables:
        raise SchemaError(f"unknown table {name!r}; the data dictionary has: {', '.join(tables)}")
    return tables[name]


def _constraint_text(f: Field) -> str:
    parts = []
    c = f.constraints
    if c.get("required"):
        parts.append("required")
    if c.get("unique"):
        parts.append("unique")
    for key, sym in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in c:
            parts.append(f"{sym} {c[key]}")
    if "enum" in c:
        values = [str(v) for v in c["enum"]]
        shown = ", ".join(values if len(values) <= 14 else values[:12] + ["..."])
        parts.append(f"one of: {shown}")
    if "pattern" in c:
        parts.append(f"pattern `{c['pattern']}`")
    if f.type in ("integer", "number") and not f.allow_non_finite:
        parts.append("finite")
    if f.bounds:
        b = f.bounds
        parts.append(f"within `{b['resource']}` {b['minimum']} .. {b['maximum']} of the same "
                     f"{', '.join(b['fields'])} (where given)")
    return "; ".join(parts)


def render_readme() -> str:
    """Human-readable Markdown rendering of every schema (the content of README.md)."""
    lines = [
        "# pdstats data dictionary",
        "",
        "<!-- Generated by `make dictionary` (pdstats.data.dictionary.write_readme) from the",
        "     *.yaml schemas in this folder. Edit the YAML files, not this page. -->",
        "",
        "Every table of a pdstats study is described by one [Frictionless Table Schema]"
        "(https://specs.frictionlessdata.io/table-schema/) file here. `pds.data.validate(df, name)`",
        "checks data against it and `pds.Study` refuses rows that break it. pdstats adds",
        "`rules` (named cross-field rules) and `sensitive` (student-level tables) to the standard.",
        "",
        "| table | title | primary key |",
        "| --- | --- | --- |",
    ]
    tables = _load_all()
    for sch in tables.values():
        lines.append(f"| [`{sch.name}`](#{sch.name}) | {sch.title} | {', '.join(sch.primary_key)} |")
    from pdstats.data.rules import RULES

    for sch in tables.values():
        lines += ["", f"## {sch.name}", "", f"**{sch.title}.** {sch.description}", ""]
        if sch.sensitive:
            lines += ["*Sensitive: student-level data; never share rows of this table.*", ""]
        lines.append(f"- Primary key: {', '.join(sch.primary_key)}")
        for cols, ref, ref_cols in sch.references():
            lines.append(f"- Foreign key: ({', '.join(cols)}) -> `{ref}` ({', '.join(ref_cols)})")
        codes = ", ".join(f'"{v}"' for v in sch.missing_values)
        lines.append(f"- Missing-value codes: {codes}")
        for rule in sch.rules:
            lines.append(f"- Rule `{rule}`: {RULES[rule].description}")
        lines += ["", "| column | type | unit | constraints | description |", "| --- | --- | --- | --- | --- |"]
        for f in sch.fields:
            lines.append(
                f"| `{f.name}` | {f.type} | {f.unit or ''} | {_constraint_text(f)} | {f.description} |"
            )
    return "\n".join(lines) + "\n"


def write_readme(path: Path | None = None) -> Path:
    """Write :func:`render_readme` to ``data_dictionary/README.md`` (or ``path``)."""
    target = path or dictionary_dir() / "README.md"
    target.write_text(render_readme(), encoding="utf-8")
    return target
