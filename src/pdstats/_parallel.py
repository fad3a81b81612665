"""Run one function over many independent pieces, locally or on a dask cluster.

The one place pdstats maps work over pieces (simulated worlds today; harmonize cells,
growth-percentile groups and value-added groups through the same ``backend=`` later):

* :func:`piece_seeds` gives every piece its own integer seed, spawned from one
  :class:`numpy.random.SeedSequence`, so piece ``i`` draws the same numbers whatever the
  backend or the number of workers;
* :func:`piece_streams` turns a seed into the piece's random streams;
* :func:`map_pieces` calls ``func(*args)`` for every piece (a local loop with a tqdm
  bar, or ``client.map`` on the current ``dask.distributed`` client with a bar over
  completed futures), catches each piece's exception and returns it with the piece's
  key instead of losing it.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pdstats.errors import ModelSpecificationError

__all__ = ["BACKENDS", "PieceFailure", "map_pieces", "piece_seeds", "piece_streams"]

#: The backends :func:`map_pieces` understands.
BACKENDS = ("local", "dask")


def piece_seeds(random_state: int | np.random.SeedSequence | None, n: int) -> list[int]:
    """One integer seed per piece, from children spawned off ``SeedSequence(random_state)``.

    Examples
    --------
    >>> piece_seeds(0, 3) == piece_seeds(0, 5)[:3]
    True
    """
    if isinstance(random_state, np.random.SeedSequence):
        ss = random_state
    elif random_state is None or (isinstance(random_state, (int, np.integer)) and random_state >= 0):
        ss = np.random.SeedSequence(random_state)
    else:
        raise ModelSpecificationError(
            f"random_state must be a non-negative integer, a SeedSequence or None, got {random_state!r}")
    # 63 bits: the seeds fit an int64 column
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in ss.spawn(int(n))]


def piece_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The piece's two independent streams: ``default_rng(seed)`` and one for its analysis.

    The first is ``np.random.default_rng(seed)`` itself, so a builder that takes an
    integer seed or a SeedSequence (``rng.bit_generator.seed_seq``) reproduces what it
    drew when it was called with ``seed`` directly.

    Examples
    --------
    >>> a, b = piece_streams(7)
    >>> float(a.random()) == float(np.random.default_rng(7).random())
    True
    """
    return np.random.default_rng(seed), np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])


@dataclass(frozen=True)
class PieceFailure:
    """A piece whose function raised: the exception's type, message and traceback."""

    error: str
    message: str
    traceback: str


def _guarded(func: Callable[..., Any], args: tuple) -> Any:
    try:
        return func(*args)
    except Exception as exc:  # noqa: BLE001 - reported per piece by the caller
        return PieceFailure(type(exc).__name__, str(exc), traceback.format_exc())


def _dask_client(client: Any) -> Any:
    if client is not None:
        return client
    try:
        from distributed import get_client
    except ImportError as exc:  # pragma: no cover - dask is an optional extra
        raise ModelSpecificationError(
            "backend='dask' needs dask.distributed (pip install 'pdstats[dask]')") from exc
    try:
        return get_client()
    except ValueError as exc:
        raise ModelSpecificationError(
            "backend='dask' needs a running dask.distributed Client (start one with "
            "distributed.Client(...) or pass client=)") from exc


def map_pieces(func: Callable[..., Any], keys: Sequence[Hashable], args: Sequence[tuple],
               backend: str = "local", client: Any = None, progress: bool = True,
               desc: str = "pieces") -> dict[Hashable, Any]:
    """Call ``func(*args[i])`` for every piece; return ``{key: value or PieceFailure}``.

    Parameters
    ----------
    func : callable
        Applied to each piece (picklable for dask workers; closures are fine).
    keys : sequence of hashable
        One key per piece, used in the returned dictionary and in failure reports.
    args : sequence of tuple
        The arguments of each piece.
    backend : {"local", "dask"}
        ``"local"`` runs the pieces one after another in this process; ``"dask"`` maps
        them on ``client`` or, when it is None, on the current ``dask.distributed`` client.
    client : distributed.Client, optional
        The dask client (``backend="dask"`` only).
    progress : bool
        Show a tqdm bar.
    desc : str
        The bar's label.

    Returns
    -------
    dict
        Key -> the function's value, or a :class:`PieceFailure` where it raised.

    Examples
    --------
    >>> out = map_pieces(lambda x: 1 / x, ["a", "b"], [(2,), (0,)], progress=False)
    >>> out["a"], out["b"].error
    (0.5, 'ZeroDivisionError')
    """
    from tqdm.auto import tqdm

    if backend not in BACKENDS:
        raise ModelSpecificationError(f"backend must be one of {list(BACKENDS)}, not {backend!r}")
    if len(keys) != len(args):
        raise ModelSpecificationError("map_pieces needs one key per piece")
    if backend == "local":
        if client is not None:
            raise ModelSpecificationError("client= is only used with backend='dask'")
        return {k: _guarded(func, a) for k, a in
                tqdm(list(zip(keys, args, strict=True)), desc=desc, disable=not progress)}
    from distributed import as_completed

    client = _dask_client(client)
    futures = client.map(_guarded, [func] * len(args), list(args), pure=False)
    by_future = {f.key: k for f, k in zip(futures, keys, strict=True)}
    out: dict[Hashable, Any] = {}
    with tqdm(total=len(futures), desc=desc, disable=not progress) as bar:
        for fut in as_completed(futures):
            out[by_future[fut.key]] = fut.result()
            bar.update(1)
    return {k: out[k] for k in keys}
