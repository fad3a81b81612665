"""Keyed pseudonyms for ids: HMAC-SHA256 with a secret key kept away from the outputs."""

from __future__ import annotations

import hashlib
import hmac
import numbers
import os

import numpy as np
import pandas as pd

from pdstats.errors import PrivacyError

__all__ = ["KEY_VARIABLE", "MIN_BITS", "pseudonymize"]

#: Environment variable read for the secret key when none is passed.
KEY_VARIABLE = "PDSTATS_PSEUDONYM_KEY"
#: Shortest pseudonym accepted: 128 bits (32 hexadecimal characters).
MIN_BITS = 128


def _secret(key: str | bytes | None) -> bytes:
    if key is None:
        key = os.environ.get(KEY_VARIABLE, "")
        if not key:
            raise PrivacyError(
                f"pseudonymize needs a secret key: pass key= (from the project's configuration) "
                f"or set the environment variable {KEY_VARIABLE}; never store it with the outputs"
            )
    if not isinstance(key, str | bytes):
        raise PrivacyError(f"the pseudonym key must be text or bytes, not {type(key).__name__}")
    k = key.encode() if isinstance(key, str) else key
    if len(k) < 16:
        raise PrivacyError("the pseudonym key must be at least 16 bytes long (a short key can be guessed)")
    return k


def pseudonymize(ids: pd.Series, key: str | bytes | None = None, bits: int = MIN_BITS) -> pd.Series:
    """Replace ids by keyed pseudonyms: HMAC-SHA256 of the id, ``bits`` long, in hexadecimal.

    The same key gives the same pseudonym for the same id (links across years and
    tables); without the key the mapping can neither be reversed nor rebuilt from a list
    of real ids. The key comes from ``key=`` (the project's configuration) or the
    environment variable ``PDSTATS_PSEUDONYM_KEY``; it is never written anywhere.

    Parameters
    ----------
    ids : pandas.Series
        Ids to replace; missing ids stay missing.
    key : str or bytes, optional
        Secret key (at least 16 bytes). Default: ``$PDSTATS_PSEUDONYM_KEY``.
    bits : int, default 128
        Length of the pseudonym in bits: a multiple of 4 from 128 to 256. Shorter
        pseudonyms collide (two students sharing one id) and are refused.

    Returns
    -------
    pandas.Series
        Pseudonyms (string dtype), ``bits / 4`` hexadecimal characters each.

    Raises
    ------
    PrivacyError
        No key, a key shorter than 16 bytes, or ``bits`` outside 128..256.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy import pseudonymize
    >>> p = pseudonymize(pd.Series(["A17", "A17", "B02"]), key="a project secret of some length")
    >>> bool(p[0] == p[1]), bool(p[0] == p[2]), len(p[0])
    (True, False, 32)
    """
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or not MIN_BITS <= bits <= 256 \
            or bits % 4:
        raise PrivacyError(
            f"pseudonyms must be {MIN_BITS} to 256 bits long, in steps of 4 (shorter ones collide); "
            f"got bits={bits!r}"
        )
    k = _secret(key)
    width = int(bits) // 4

    def one(v: object) -> object:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return pd.NA
        return hmac.new(k, str(v).encode(), hashlib.sha256).hexdigest()[:width]

    return ids.map(one).astype("string")
