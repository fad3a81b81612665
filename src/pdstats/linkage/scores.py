"""Practice scores by district and year, each with a standard error.

Three kinds of score come from one partial-credit model (PCM) fitted by
:func:`pdstats.practices.score` to the consensus evidence of every district-year:

* ``practice_index``: the district-year's PCM person estimate (Warm's WLE) and its
  standard error ``1 / sqrt(test information)`` (finite for every raw score);
* one score per practice (the 12 practices of Table 6.1): the number of the practice's
  four stages evidenced (0-4), with the model-implied standard error
  ``sqrt(Var[X_i | theta])`` at the district-year's estimate (the item-level randomness of
  that one practice's count around its expectation);
* one score per practice group (the five groups of Table 6.1): the sum of its practices'
  counts, with the square root of the summed variances.

The scores are on their own raw metrics; :mod:`pdstats.linkage.measurement` turns effects
into units of the error-free score's SD among year-1 districts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pdstats._inputs import require_columns
from pdstats.errors import ModelSpecificationError

__all__ = ["INDEX", "practice_scores"]

#: Name of the one-number practice index in every linkage table.
INDEX = "practice_index"


def practice_scores(ratings: pd.DataFrame) -> pd.DataFrame:
    """Index, practice and group scores with standard errors per district-year.

    Parameters
    ----------
    ratings : pandas.DataFrame
        ``practice_ratings`` rows (the consensus rows are used where present).

    Returns
    -------
    pandas.DataFrame
        One row per district, year and score: ``district_id``, ``year``, ``kind``
        ("index", "practice" or "group"), ``score`` (``practice_index``, a practice id or a
        group id), ``value``, ``se``.

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1()
    >>> s = practice_scores(data["practice_ratings"].assign(year=2005))
    >>> s.groupby("kind")["score"].nunique().to_dict()
    {'group': 5, 'index': 1, 'practice': 12}
    """
    from pdstats.practices import GROUPS, PRACTICES, score, stage_matrix
    from pdstats.practices.rasch import _grid_moments  # kernel, E, Var, 3rd moment of PCM items

    require_columns(ratings, ["district_id", "year", "practice", "stage", "evidence"],
                    "practice_ratings", "ratings")
    if "informant_role" in ratings.columns and (ratings["informant_role"] == "consensus").any():
        ratings = ratings[ratings["informant_role"] == "consensus"]
    counts = score(ratings, method="count").wide[list(PRACTICES)]
    if list(counts.index.names) != ["district_id", "year"]:
        raise ModelSpecificationError("practice_ratings: scores are not keyed by district_id and year")
    keys = counts.index.to_frame(index=False).astype({"district_id": str, "year": int})
    pcm = score(ratings, method="pcm")
    wide = pcm.wide.reindex(counts.index)
    theta, index_se = wide["theta"].to_numpy(float), wide["se"].to_numpy(float)
    items = pcm.model.items  # type: ignore[union-attr]
    betas = {str(i): g["beta"].to_numpy(float) for i, g in items.groupby("item", sort=False)}
    var = {p: (_grid_moments(theta, [betas[p]])[2] if p in betas
               else np.zeros(len(theta)))  # an item the PCM dropped (no variation) carries no error
           for p in PRACTICES}
    parts = [keys.assign(kind="index", score=INDEX, value=theta, se=index_se)]
    for p in PRACTICES:
        parts.append(keys.assign(kind="practice", score=p, value=counts[p].to_numpy(float), se=np.sqrt(var[p])))
    sm = stage_matrix()
    members = sm.groupby("group", observed=True)["practice"].unique()
    for g in GROUPS:
        ps = [str(p) for p in members[g]]
        parts.append(keys.assign(kind="group", score=g, value=counts[ps].sum(axis=1).to_numpy(float),
                                 se=np.sqrt(sum(var[p] for p in ps))))
    return pd.concat(parts, ignore_index=True)
