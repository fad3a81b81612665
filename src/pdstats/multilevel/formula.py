"""Step 1 of a fit: split an lme4-style formula into its fixed and random parts.

``"math ~ year * lowinc + (year | childid) + (year | schoolid)"`` becomes a response
(``math``), a fixed-effects formula (``year * lowinc``, handed to formulaic) and one
:class:`RandomTermSpec` per random-effects term.  Grouping expressions follow lme4:

* ``(expr | g)``: correlated random effects of ``expr`` for each level of ``g``;
* ``(expr || g)``: the same effects, uncorrelated (one term per column);
* ``(expr | g1/g2)``: nesting, expanded to ``(expr | g1) + (expr | g2:g1)``;
* ``(expr | g1:g2)``: one level per observed combination of ``g1`` and ``g2``;
* ``(1 | mm(t1 + t2 + t3, w1 + w2 + w3))``: multiple membership -- a row belongs to the
  units in columns ``t1, t2, t3`` with weights ``w1, w2, w3`` summing to 1 (see
  :mod:`pdstats.multilevel.membership`).

Crossed factors are simply two terms with different grouping factors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pdstats.errors import ModelSpecificationError

__all__ = ["RandomTermSpec", "ParsedFormula", "parse_formula", "split_top_level"]


@dataclass(frozen=True)
class RandomTermSpec:
    """One random-effects term ``(expr | group)``.

    Attributes
    ----------
    expr : str
        Right-hand side of the term's model matrix, e.g. ``"year"`` or ``"0 + x"``.
    group : tuple of str
        Variables whose combination defines the grouping factor (``("childid",)``
        or ``("childid", "schoolid")`` for ``childid:schoolid``); empty for a
        multiple-membership term.
    membership : tuple of (tuple of str, tuple of str), optional
        Id columns and weight columns of a multiple-membership term ``mm(ids, weights)``.
    """

    expr: str
    group: tuple[str, ...]
    membership: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    @property
    def group_name(self) -> str:
        """Name of the grouping factor as lme4 prints it (``"childid:schoolid"``).

        A multiple-membership term is named ``"mm(t1+t2+t3)"``.
        """
        if self.membership is not None:
            return f"mm({'+'.join(self.membership[0])})"
        return ":".join(self.group)


@dataclass(frozen=True)
class ParsedFormula:
    """A formula split into response, fixed part and random terms."""

    response: str
    fixed: str
    random: tuple[RandomTermSpec, ...]

    @property
    def variables(self) -> list[str]:
        """Variables named by the random terms' grouping factors (fixed ones come from formulaic)."""
        out: list[str] = []
        for term in self.random:
            for g in term.group:
                if g not in out:
                    out.append(g)
        return out


def split_top_level(text: str, sep: str = "+") -> list[str]:
    """Split ``text`` on ``sep`` where it is not inside parentheses.

    Examples
    --------
    >>> split_top_level("year * (a + b) + (year | g)")
    ['year * (a + b)', '(year | g)']
    """
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ModelSpecificationError(f"unbalanced parentheses in formula part {text!r}")
        if ch == sep and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise ModelSpecificationError(f"unbalanced parentheses in formula part {text!r}")
    parts.append("".join(current).strip())
    return parts


_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_MM = re.compile(r"^mm\((.*)\)$", re.S)


def _parse_membership(text: str, formula: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``mm(t1 + t2, w1 + w2)`` -> (("t1", "t2"), ("w1", "w2"))."""
    inner = _MM.match(text.strip()).group(1)
    parts = split_top_level(inner, ",")
    if len(parts) != 2:
        raise ModelSpecificationError(
            f"{text.strip()!r} in formula {formula!r}: write mm(id1 + id2 + ..., "
            "weight1 + weight2 + ...) with one weight column per id column"
        )
    ids = tuple(p.strip() for p in split_top_level(parts[0]))
    wts = tuple(p.strip() for p in split_top_level(parts[1]))
    for name in (*ids, *wts):
        if not _NAME.match(name):
            raise ModelSpecificationError(
                f"{name!r} in {text.strip()!r} (formula {formula!r}) is not a column name"
            )
    if len(ids) != len(wts):
        raise ModelSpecificationError(
            f"{text.strip()!r} in formula {formula!r} has {len(ids)} id column(s) but "
            f"{len(wts)} weight column(s); give one weight per id, in the same order"
        )
    return ids, wts


def _parse_group(text: str, formula: str) -> list[tuple[str, ...]]:
    """Expand a grouping expression into grouping factors (each a tuple of variables)."""
    text = text.strip()
    if "/" in text:
        pieces = [p.strip() for p in text.split("/")]
        out: list[tuple[str, ...]] = []
        for i in range(len(pieces)):
            # g1/g2/g3 -> g1, g2:g1, g3:g2:g1 (lme4's naming puts the inner factor first)
            combo: list[str] = []
            for p in reversed(pieces[: i + 1]):
                combo.extend(_parse_group(p, formula)[0])
            out.append(tuple(combo))
        return out
    names = tuple(p.strip() for p in text.split(":"))
    for name in names:
        if not _NAME.match(name):
            raise ModelSpecificationError(
                f"grouping factor {name!r} in formula {formula!r} is not a column name; "
                "use (expr | g), (expr | g1/g2) or (expr | g1:g2)"
            )
    return [names]


def _expand_uncorrelated(expr: str) -> list[str]:
    """``(1 + x || g)`` -> ``["1", "0 + x"]`` (lme4's double-bar expansion)."""
    parts = [p.strip() for p in split_top_level(expr)]
    has_intercept = not any(p in ("0", "-1") for p in parts)
    parts = [p for p in parts if p not in ("0", "-1", "1")]
    out = ["1"] if has_intercept else []
    out += [f"0 + {p}" for p in parts]
    return out


def parse_formula(formula: str) -> ParsedFormula:
    """Parse an lme4-style mixed-model formula.

    Parameters
    ----------
    formula : str
        ``"y ~ fixed + (expr | group) + ..."``.

    Returns
    -------
    ParsedFormula

    Raises
    ------
    ModelSpecificationError
        When there is no ``~``, no random term, or a grouping factor is malformed.

    Examples
    --------
    >>> p = parse_formula("math ~ year + (year | childid) + (1 | schoolid/classid)")
    >>> p.fixed
    'year'
    >>> [(t.expr, t.group_name) for t in p.random]
    [('year', 'childid'), ('1', 'schoolid'), ('1', 'classid:schoolid')]
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise ModelSpecificationError(f"formula must be a string 'y ~ terms', got {formula!r}")
    lhs, rhs = formula.split("~", 1)
    response = lhs.strip()
    if not response:
        raise ModelSpecificationError(f"formula {formula!r} has no response on the left of '~'")
    fixed_parts: list[str] = []
    random: list[RandomTermSpec] = []
    for part in split_top_level(rhs):
        if not part:
            raise ModelSpecificationError(f"empty term in formula {formula!r}")
        inner = part[1:-1] if part.startswith("(") and part.endswith(")") else None
        if inner is not None and "|" in inner and len(split_top_level(inner, "|")) >= 2:
            if "||" in inner:
                expr, group = inner.split("||", 1)
                exprs = _expand_uncorrelated(expr)
            else:
                expr, group = inner.split("|", 1)
                exprs = [expr.strip()]
            if not exprs or not exprs[0]:
                raise ModelSpecificationError(
                    f"random term {part!r} in formula {formula!r} has no effects before '|'"
                )
            if _MM.match(group.strip()):
                membership = _parse_membership(group, formula)
                for e in exprs:
                    random.append(RandomTermSpec(expr=e.strip(), group=(), membership=membership))
                continue
            for g in _parse_group(group, formula):
                for e in exprs:
                    random.append(RandomTermSpec(expr=e.strip(), group=g))
        else:
            fixed_parts.append(part)
    if not random:
        raise ModelSpecificationError(
            f"formula {formula!r} has no random-effects term such as (1 | group); "
            "use an OLS routine for fixed-effects-only models"
        )
    fixed = " + ".join(fixed_parts) if fixed_parts else "1"
    return ParsedFormula(response=response, fixed=fixed, random=tuple(random))
