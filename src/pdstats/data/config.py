"""A study's configuration: the small, validated file that sits beside its store.

A study is a store (:class:`pdstats.Study`) plus a configuration saying what to analyse:
states, study years, subjects, grades, the practice instrument, the programs and their
designs, the scale results are reported on and the small-cell suppression threshold.
It is a TOML file (read with the standard library's :mod:`tomllib`)::

    name = "Three-state district study"
    states = ["CA", "MA", "TX"]
    years = [2005, 2006, 2007]          # consecutive spring years: year 1, 2, 3
    subjects = ["math", "reading"]
    grades = [3, 4, 5, 6, 7, 8]
    practice_instrument = "stage_matrix"
    reported_scale = "naep"             # or "student_sd"
    suppression_threshold = 10
    random_state = 0

    [programs.pay_for_performance]
    design = "staggered"
    level = "district"

Every rule broken raises :class:`~pdstats.StudyConfigError` naming the key and the rule.
Without a file, :func:`config_for_store` derives the configuration from what the store
holds; :meth:`StudyConfig.check_store` checks a configuration against a store.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pdstats.errors import StudyConfigError

__all__ = ["DESIGNS", "INSTRUMENTS", "SCALES", "StudyConfig", "config_for_store", "load_config"]

#: Practice instruments pdstats can score (the 12 x 4 stage matrix of :mod:`pdstats.practices`).
INSTRUMENTS = ("stage_matrix",)
#: Program designs a configuration may name (estimators: :mod:`pdstats.report.study`).
DESIGNS = ("staggered", "randomized", "rd")
#: Scales results can be reported on.
SCALES = ("naep", "student_sd")
_SUBJECTS = ("math", "reading")
_LEVELS = ("district", "school", "teacher")
_KEYS = ("name", "states", "years", "subjects", "grades", "practice_instrument", "programs",
         "reported_scale", "suppression_threshold", "random_state")  # fmt: skip


def _fail(key: str, rule: str, value: object) -> StudyConfigError:
    return StudyConfigError(f"study config key {key!r}: {rule} (got {value!r})")


def _int_list(key: str, value: object, lo: int, hi: int) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise _fail(key, "must be a non-empty list of integers", value)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise _fail(key, "must hold integers only", value)
    if any(not lo <= v <= hi for v in value):
        raise _fail(key, f"values must lie in {lo}..{hi}", value)
    if len(set(value)) != len(value):
        raise _fail(key, "must not repeat a value", value)
    return tuple(sorted(value))


def _str_list(key: str, value: object, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) and v for v in value):
        raise _fail(key, "must be a non-empty list of strings", value)
    if allowed is not None and (bad := [v for v in value if v not in allowed]):
        raise _fail(key, f"values must be among {list(allowed)}; {bad} are not", value)
    if len(set(value)) != len(value):
        raise _fail(key, "must not repeat a value", value)
    return tuple(value)


def _programs(value: object) -> dict[str, dict[str, str]]:
    if not isinstance(value, Mapping):
        raise _fail("programs", "must be a table of program names, each with design and level", value)
    out: dict[str, dict[str, str]] = {}
    for name, spec in sorted(value.items()):
        key = f"programs.{name}"
        if not isinstance(spec, Mapping):
            raise _fail(key, "must be a table with keys design and level", spec)
        if extra := sorted(set(spec) - {"design", "level"}):
            raise _fail(key, f"unknown key(s) {extra}; allowed: design, level", spec)
        design, level = spec.get("design"), spec.get("level", "district")
        if design not in DESIGNS:
            raise _fail(f"{key}.design", f"must be one of {list(DESIGNS)}", design)
        if level not in _LEVELS:
            raise _fail(f"{key}.level", f"must be one of {list(_LEVELS)}", level)
        out[str(name)] = {"design": str(design), "level": str(level)}
    return out


@dataclass(frozen=True)
class StudyConfig:
    """A validated study configuration (see the module docstring for the file format).

    Examples
    --------
    >>> from pdstats.data.config import StudyConfig
    >>> cfg = StudyConfig.from_dict({"states": ["CA", "TX"], "years": [2005, 2006, 2007]})
    >>> cfg.year1, cfg.year3, cfg.subjects
    (2005, 2007, ('math',))
    >>> try:
    ...     StudyConfig.from_dict({"states": ["CA"], "years": [2005, 2007]})
    ... except Exception as err:
    ...     print(type(err).__name__)
    StudyConfigError
    """

    states: tuple[str, ...]
    years: tuple[int, ...]
    subjects: tuple[str, ...] = ("math",)
    grades: tuple[int, ...] = (3, 4, 5, 6, 7, 8)
    practice_instrument: str = "stage_matrix"
    programs: dict[str, dict[str, str]] = field(default_factory=dict)
    reported_scale: str = "naep"
    suppression_threshold: int = 10
    random_state: int = 0
    name: str = "Performance-driven practices study"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StudyConfig:
        """Validate a parsed configuration (a dict as :mod:`tomllib` returns it)."""
        if not isinstance(raw, Mapping):
            raise StudyConfigError(f"a study config is a table of keys, not {type(raw).__name__}")
        if unknown := sorted(set(raw) - set(_KEYS)):
            raise _fail(unknown[0], f"unknown key; allowed keys: {list(_KEYS)}", raw[unknown[0]])
        for key in ("states", "years"):
            if key not in raw:
                raise _fail(key, "is required", None)
        states = _str_list("states", raw["states"])
        if bad := [s for s in states if not (len(s) == 2 and s.isalpha() and s.isupper())]:
            raise _fail("states", f"must be two-letter upper-case state codes; {bad} are not", raw["states"])
        years = _int_list("years", raw["years"], 1990, 2035)
        if any(b != a + 1 for a, b in zip(years, years[1:], strict=False)):
            raise _fail("years", "must be consecutive spring years", raw["years"])
        kw: dict[str, Any] = {"states": states, "years": years}
        if "subjects" in raw:
            kw["subjects"] = _str_list("subjects", raw["subjects"], _SUBJECTS)
        if "grades" in raw:
            kw["grades"] = _int_list("grades", raw["grades"], 1, 12)
        if "practice_instrument" in raw:
            if raw["practice_instrument"] not in INSTRUMENTS:
                raise _fail("practice_instrument", f"must be one of {list(INSTRUMENTS)}", raw["practice_instrument"])
            kw["practice_instrument"] = raw["practice_instrument"]
        if "programs" in raw:
            kw["programs"] = _programs(raw["programs"])
        if "reported_scale" in raw:
            if raw["reported_scale"] not in SCALES:
                raise _fail("reported_scale", f"must be one of {list(SCALES)}", raw["reported_scale"])
            kw["reported_scale"] = raw["reported_scale"]
        for key, lo in (("suppression_threshold", 1), ("random_state", 0)):
            if key in raw:
                v = raw[key]
                if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                    raise _fail(key, f"must be an integer >= {lo}", v)
                kw[key] = v
        if "name" in raw:
            if not isinstance(raw["name"], str) or not raw["name"].strip():
                raise _fail("name", "must be a non-empty string", raw["name"])
            kw["name"] = raw["name"]
        return cls(**kw)

    @property
    def year1(self) -> int:
        """The first study year (baseline)."""
        return self.years[0]

    @property
    def year2(self) -> int | None:
        """The second study year (first growth year), if the study has one."""
        return self.years[1] if len(self.years) > 1 else None

    @property
    def year3(self) -> int | None:
        """The third study year, if the study has one."""
        return self.years[2] if len(self.years) > 2 else None

    def to_dict(self) -> dict[str, Any]:
        """Plain values (lists, not tuples), in the file's key order."""
        d = asdict(self)
        return {k: (list(d[k]) if isinstance(d[k], tuple) else d[k]) for k in _KEYS}

    def to_toml(self) -> str:
        """The configuration as TOML text (reads back to an equal configuration)."""
        lines, tables = [], []
        for k, v in self.to_dict().items():
            if k == "programs":
                for name, spec in v.items():
                    tables += ["", f"[programs.{name}]", *(f'{sk} = "{sv}"' for sk, sv in spec.items())]
            elif isinstance(v, str):
                lines.append(f"{k} = {_toml_str(v)}")
            elif isinstance(v, list):
                lines.append(f"{k} = [{', '.join(_toml_str(x) if isinstance(x, str) else str(x) for x in v)}]")
            else:
                lines.append(f"{k} = {v}")
        return "\n".join(lines + tables) + "\n"

    def check_store(self, store: Any) -> None:
        """Refuse a configuration naming states, years or programs the store does not hold."""
        held = set(store.read("states", columns=["state"])["state"])
        if missing := [s for s in self.states if s not in held]:
            raise _fail("states", f"{missing} are not in the store's states table (it holds {sorted(held)})",
                        list(self.states))
        programs = set(store.read("program_adoption", columns=["program"])["program"])
        if missing := [p for p in self.programs if p not in programs]:
            raise _fail("programs", f"{missing} are not in the store's program_adoption table", list(self.programs))
        years = _store_years(store)
        if years and self.year1 not in years:
            raise _fail("years", f"year 1 ({self.year1}) has no rows in the store (it holds {sorted(years)})",
                        list(self.years))


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _store_years(store: Any) -> set[int]:
    years: set[int] = set()
    for table in ("state_assessment_aggregates", "practice_ratings"):
        years |= {int(y) for y in store.sql(f"SELECT DISTINCT year FROM {table}")["year"]}
    return years


def load_config(path: str | Path) -> StudyConfig:
    """Read and validate a study configuration file (TOML).

    Raises
    ------
    StudyConfigError
        The file is missing, is not valid TOML, or breaks a rule (key and rule named).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pdstats.data.config import load_config
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "study.toml"
    >>> _ = p.write_text('states = ["CA"]\\nyears = [2005, 2006]\\nsuppression_threshold = 0\\n')
    >>> try:
    ...     load_config(p)
    ... except Exception as err:
    ...     print(err)
    study config key 'suppression_threshold': must be an integer >= 1 (got 0)
    """
    p = Path(path)
    if not p.is_file():
        raise StudyConfigError(f"study config file {str(p)!r} does not exist")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyConfigError(f"study config file {str(p)!r} is not valid TOML: {exc}") from exc
    return StudyConfig.from_dict(raw)


def config_for_store(store: Any) -> StudyConfig:
    """The configuration a store implies: everything it holds, programs by their design.

    States from ``states``; years from the achievement and practice tables; subjects and
    grades from ``state_assessment_aggregates``; programs from ``program_adoption``
    (``adoption`` -> ``staggered``, ``randomized`` -> ``randomized``, at the level they
    were assigned).

    Examples
    --------
    >>> import pdstats as pds
    >>> from pdstats.data.config import config_for_store
    >>> from pdstats.data.example import load_example_study
    >>> cfg = config_for_store(load_example_study())
    >>> cfg.states, cfg.years
    (('CA', 'MA', 'TX'), (2005,))
    """
    states = sorted(store.read("states", columns=["state"])["state"])
    agg = store.sql("SELECT DISTINCT subject, grade FROM state_assessment_aggregates")
    adopt = store.sql("SELECT program, min(unit_type) AS level, min(design) AS design FROM program_adoption "
                      "GROUP BY program ORDER BY program")
    design = {"adoption": "staggered", "randomized": "randomized"}
    raw: dict[str, Any] = {
        "states": states,
        "years": sorted(_store_years(store)),
        "programs": {r.program: {"design": design[r.design], "level": r.level} for r in adopt.itertuples()},
    }
    if len(agg):
        raw["subjects"] = sorted(set(agg["subject"]) & set(_SUBJECTS))
        raw["grades"] = sorted(int(g) for g in set(agg["grade"]))
    return StudyConfig.from_dict(raw)
