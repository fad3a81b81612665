"""Interview-code expressions: parse ``"a&!b"`` and evaluate them on district code sets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pdstats.errors import DataValidationError

__all__ = ["parse_expr", "expr_atoms", "district_code_matrix", "eval_expr"]


def parse_expr(expr: str) -> list[tuple[str, bool]]:
    """Split a conjunction ``"a&!b"`` into ``[("a", True), ("b", False)]``."""
    out = []
    for term in expr.split("&"):
        term = term.strip()
        neg = term.startswith("!")
        out.append((term.lstrip("!"), not neg))
    return out


def expr_atoms(exprs: list[str]) -> list[str]:
    """All code names used in a list of expressions, in first-seen order."""
    seen: dict[str, None] = {}
    for e in exprs:
        for atom, _ in parse_expr(e):
            seen.setdefault(atom, None)
    return list(seen)


def district_code_matrix(interview_codes: pd.DataFrame, district_ids: list[str]) -> pd.DataFrame:
    """District x code 0/1 matrix: 1 when any informant's passage count for the code is > 0."""
    need = {"district_id", "code", "count"}
    missing = need - set(interview_codes.columns)
    if missing:
        fail = pd.DataFrame(
            {"table": "interview_codes", "column": sorted(missing), "rule": "required column",
             "row": None, "key": "", "value": None}
        )
        raise DataValidationError("interview_codes", fail)
    pos = interview_codes.loc[interview_codes["count"] > 0, ["district_id", "code"]]
    mat = pd.crosstab(pos["district_id"], pos["code"]).clip(upper=1)
    return mat.reindex(index=district_ids, fill_value=0)


def eval_expr(expr: str, mat: pd.DataFrame) -> np.ndarray:
    """Evaluate a conjunction on a district x code matrix (codes absent from it count as 0)."""
    ok = np.ones(len(mat), dtype=bool)
    for atom, positive in parse_expr(expr):
        col = mat[atom].to_numpy().astype(bool) if atom in mat.columns else np.zeros(len(mat), bool)
        ok &= col if positive else ~col
    return ok
