"""Step 2 of a fit: model matrices from a parsed formula and a DataFrame.

Produces the response ``y``, the fixed-effects matrix ``X`` (built by formulaic, so the
term names are ``Intercept``, ``year``, ``year:black``, ...), and for each random term
its grouping codes and its small dense model matrix.  The sparse ``Z`` of lme4 is never
formed: row ``r`` of the term's block of ``Z`` holds the term's model-matrix row in the
columns of level ``codes[r]``, which is all the deviance code needs.

Rows with a missing value in any variable the model uses are dropped and counted, by
variable, in the :class:`~pdstats.results.SampleLog` (see :mod:`pdstats.multilevel._checks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from formulaic import Formula, model_matrix

from pdstats._inputs import as_numeric
from pdstats.errors import ModelSpecificationError
from pdstats.multilevel._checks import clean_rows
from pdstats.multilevel.formula import ParsedFormula, RandomTermSpec
from pdstats.multilevel.membership import build_membership_term, membership_rows
from pdstats.results import SampleLog

__all__ = ["GroupTerm", "Design", "build_design"]


@dataclass
class GroupTerm:
    """One random-effects term after its data are attached.

    Attributes
    ----------
    group : str
        Grouping-factor name (``"childid"``, ``"childid:schoolid"``).
    codes : numpy.ndarray
        Integer level (0 .. nlev-1) of every used row.
    levels : pandas.Index
        Level labels, in code order.
    Xr : numpy.ndarray
        (n, k) model matrix of the term's effects.
    names : list of str
        Column names of ``Xr`` (``Intercept``, ``year``, ...).
    """

    group: str
    codes: np.ndarray
    levels: pd.Index
    Xr: np.ndarray
    names: list[str]
    spec: object = None

    @property
    def k(self) -> int:
        """Number of random effects per level."""
        return self.Xr.shape[1]

    @property
    def nlev(self) -> int:
        """Number of levels of the grouping factor."""
        return len(self.levels)

    @property
    def n_theta(self) -> int:
        """Number of covariance parameters (lower triangle of a k x k factor)."""
        return self.k * (self.k + 1) // 2


@dataclass
class Design:
    """Everything a fit needs, derived once from formula and data."""

    formula: str
    response: str
    y: np.ndarray
    X: np.ndarray
    fixed_names: list[str]
    terms: list[GroupTerm]
    weights: np.ndarray | None
    sigma_known: bool
    sample_log: SampleLog
    data: pd.DataFrame
    fixed_formula: str
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of observations used."""
        return len(self.y)

    @property
    def p(self) -> int:
        """Number of fixed effects."""
        return self.X.shape[1]

    @property
    def prior_weights(self) -> np.ndarray:
        """Residual precision weights (ones when the model has none)."""
        return np.ones(self.n) if self.weights is None else self.weights


def _vector_arg(value: object, name: str, data: pd.DataFrame) -> tuple[np.ndarray, str | None]:
    """A per-row argument given either as a column name or as an array of length len(data)."""
    if isinstance(value, str):
        if value not in data.columns:
            raise ModelSpecificationError(f"{name}={value!r}: no such column in the data")
        return as_numeric(data, value, "lmm data").to_numpy(dtype=float), value
    arr = np.asarray(value, dtype=float).ravel()
    if arr.shape[0] != len(data):
        raise ModelSpecificationError(
            f"{name} has {arr.shape[0]} values but the data have {len(data)} rows"
        )
    return arr, None


def _group_codes(data: pd.DataFrame, spec: RandomTermSpec) -> tuple[np.ndarray, pd.Index]:
    if len(spec.group) == 1:
        codes, uniques = pd.factorize(data[spec.group[0]], sort=True)
        return codes.astype(np.int64), pd.Index(uniques.astype(str), name=spec.group_name)
    keys = data[list(spec.group)].astype(str)
    combo = keys.iloc[:, 0].str.cat([keys.iloc[:, j] for j in range(1, keys.shape[1])], sep=":")
    codes, uniques = pd.factorize(combo, sort=True)
    return codes.astype(np.int64), pd.Index(np.asarray(uniques, dtype=str), name=spec.group_name)


def build_design(
    formula: str,
    parsed: ParsedFormula,
    data: pd.DataFrame,
    weights: object = None,
    known_variance: object = None,
) -> Design:
    """Build the model matrices of a mixed model.

    Parameters
    ----------
    formula : str
        The original formula (kept for printing).
    parsed : ParsedFormula
        Output of :func:`~pdstats.multilevel.formula.parse_formula`.
    data : pandas.DataFrame
        One row per observation.
    weights : str or array-like, optional
        Prior (precision) weights: the residual variance of row ``i`` is
        ``sigma^2 / weights[i]``.
    known_variance : str or array-like, optional
        Known residual variance of each row (the "V-known" model); ``sigma`` is then
        fixed at 1 instead of estimated.

    Returns
    -------
    Design

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.multilevel.formula import parse_formula
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [0.0, 1, 0, 1], "g": list("aabb")})
    >>> f = "y ~ x + (1 | g)"
    >>> d = build_design(f, parse_formula(f), df)
    >>> d.fixed_names, d.terms[0].nlev
    (['Intercept', 'x'], 2)
    """
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if weights is not None and known_variance is not None:
        raise ModelSpecificationError(
            "give either weights= (residual variance sigma^2/w) or known_variance= "
            "(residual variance known), not both"
        )
    try:
        fixed_vars = sorted(Formula(parsed.fixed).required_variables)
        random_vars: list[str] = []
        for expr in dict.fromkeys(term.expr for term in parsed.random):  # each once
            random_vars += sorted(Formula(expr).required_variables)
    except Exception as exc:
        raise ModelSpecificationError(f"cannot parse formula {formula!r}: {exc}") from exc
    variables: list[str] = []
    for v in [parsed.response, *fixed_vars, *random_vars, *parsed.variables]:
        if v not in variables:
            variables.append(v)
    missing_cols = [v for v in variables if v not in data.columns]
    if missing_cols:
        raise ModelSpecificationError(
            f"formula {formula!r} names column(s) {missing_cols} that are not in the data "
            f"(columns: {list(data.columns)[:20]})"
        )
    extra_vectors: dict[str, np.ndarray] = {}
    for name, value in (("weights", weights), ("known_variance", known_variance)):
        if value is not None:
            arr, _ = _vector_arg(value, name, data)
            extra_vectors[name] = arr

    pre = np.ones(len(data), dtype=bool)
    log = SampleLog(n_in=len(data))
    for spec in parsed.random:  # multiple membership: rows with no member are dropped
        if spec.membership is not None:
            pre = membership_rows(data, spec, pre, log)
    used, extra_vectors, log, rows = clean_rows(data, variables, parsed.response, extra_vectors,
                                                keep=pre, log=log)
    keep = np.zeros(len(data), dtype=bool)
    keep[rows] = True
    y = used[parsed.response].to_numpy(dtype=float)

    try:
        mm = model_matrix(parsed.fixed, used, na_action="raise")
    except Exception as exc:
        raise ModelSpecificationError(f"cannot build fixed effects of {formula!r}: {exc}") from exc
    X = np.asarray(mm, dtype=float)
    fixed_names = [str(c) for c in mm.columns]
    if X.shape[1] and np.linalg.matrix_rank(X) < X.shape[1]:
        raise ModelSpecificationError(
            f"the fixed-effects design of {formula!r} is rank deficient "
            f"(rank {np.linalg.matrix_rank(X)} < {X.shape[1]} columns {fixed_names})"
        )

    terms: list = []  # GroupTerm or MembershipTerm
    built: dict[str, object] = {}  # one model matrix per distinct random-term expression
    for spec in parsed.random:
        if spec.membership is not None:
            terms.append(build_membership_term(spec, data.iloc[np.flatnonzero(keep)]))
            continue
        try:
            if spec.expr not in built:
                built[spec.expr] = model_matrix(spec.expr, used, na_action="raise")
            rm = built[spec.expr]
        except Exception as exc:
            raise ModelSpecificationError(
                f"cannot build random term ({spec.expr} | {spec.group_name}): {exc}"
            ) from exc
        codes, levels = _group_codes(used, spec)
        Xr = np.asarray(rm, dtype=float)
        if Xr.shape[1] == 0:
            raise ModelSpecificationError(f"random term ({spec.expr} | {spec.group_name}) is empty")
        terms.append(
            GroupTerm(spec.group_name, codes, levels, Xr, [str(c) for c in rm.columns],
                      spec=(spec, rm.model_spec))
        )
    # lme4 orders terms by decreasing number of levels (stable for ties)
    terms.sort(key=lambda t: -t.nlev)
    n = len(y)
    for t in terms:
        if t.nlev * t.k >= n and "known_variance" not in extra_vectors:
            raise ModelSpecificationError(
                f"random term ({' + '.join(t.names)} | {t.group}) has {t.nlev} levels x {t.k} "
                f"effects >= {n} observations: the random effects and the residual are "
                "not identifiable"
            )

    w = extra_vectors.get("weights")
    sigma_known = "known_variance" in extra_vectors
    if sigma_known:
        w = 1.0 / extra_vectors["known_variance"]
    return Design(
        formula=formula,
        response=parsed.response,
        y=y,
        X=X,
        fixed_names=fixed_names,
        terms=terms,
        weights=w,
        sigma_known=sigma_known,
        sample_log=log,
        data=used,
        fixed_formula=parsed.fixed,
        # the caller's frame and the rows used: cluster-robust SEs may cluster on any column
        extra={"fixed_spec": mm.model_spec, "source": data, "rows": np.flatnonzero(keep)},
    )
