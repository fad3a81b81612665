"""Small-cell suppression, pseudonyms and the shareability guard."""

from __future__ import annotations

import pandas as pd
import pytest

from pdstats.privacy import PrivacyError, check_shareable, pseudonymize, suppress_small_cells

LEVELS = ["level_1", "level_2", "level_3", "level_4"]


def test_suppressed_cells_cannot_be_recovered_from_row_totals() -> None:
    t = pd.DataFrame({"n_tested": [100, 60, 200], "level_1": [5, 10, 0], "level_2": [40, 20, 80],
                      "level_3": [30, 3, 70], "level_4": [25, 27, 50]})
    out, log = suppress_small_cells(t, LEVELS)
    assert out["suppressed"].tolist() == [True, True, False]
    for i in range(len(t)):
        shown = out.loc[i, LEVELS]
        assert shown.isna().sum() != 1, "one blank cell could be recovered from n_tested"
        hidden = t.loc[i, LEVELS][shown.isna().to_numpy()]
        assert (hidden.sum() >= 10) or shown.isna().sum() == 0
    assert log.dropped["cells below 10 (primary suppression)"] == 2
    assert log.dropped["complementary suppression"] == 2
    assert out.loc[2, LEVELS].tolist() == [0, 80, 70, 50]  # zeros are not disclosive


def test_bad_input() -> None:
    with pytest.raises(Exception, match="not in the table"):
        suppress_small_cells(pd.DataFrame({"a": [1]}), ["b"])
    with pytest.raises(Exception, match="non-negative"):
        suppress_small_cells(pd.DataFrame({"a": [-1]}), ["a"])


def test_pseudonyms_are_keyed_and_stable() -> None:
    ids = pd.Series(["s1", "s2", None])
    a, b = pseudonymize(ids, "k1"), pseudonymize(ids, "k2")
    assert a[0] != b[0] and a.isna()[2]
    assert pseudonymize(ids, "k1").equals(a)
    with pytest.raises(Exception, match="key"):
        pseudonymize(ids, "")


def test_check_shareable() -> None:
    with pytest.raises(PrivacyError, match="student_id"):
        check_shareable(pd.DataFrame({"student_id": ["x"]}))
    with pytest.raises(PrivacyError, match="rows \\[1\\]"):
        check_shareable(pd.DataFrame({"n": [12, 4]}), ["n"])
    check_shareable(pd.DataFrame({"n": [12, 0]}), ["n"])
