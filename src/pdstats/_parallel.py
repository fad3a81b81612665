"""Run one function over many independent pieces, locally or on a dask cluster.

The one place pdstats maps work over pieces (simulated worlds today; harmonize cells,
growth-percentile groups and value-added groups through the same ``backend=`` later):

* :func:`piece_seeds` gives every piece its own integer seed, spawned from one
  :class:`numpy.random.SeedSequence`, so piece ``i`` draws the same numbers whatever the
  backend or the number of workers;
* :func:`piece_streams` turns a seed into the piece's random streams;
* :func:`map_pieces` calls ``func(*shared, *args)`` for every piece (a local loop with a
  tqdm bar, or tasks on the current ``dask.distributed`` client with a bar over completed
  futures), catches each piece's exception and returns it with the piece's key instead
  of losing it. ``shared`` arguments (a design matrix every quantile regression needs)
  are sent to each worker once; ``chunksize`` bundles small pieces into one task (each
  piece still guarded and keyed on its own); ``capture_warnings`` records each piece's
  warnings and re-issues them in key order, so both backends warn alike;
* :func:`raise_failures` turns the failed pieces into one
  :class:`~pdstats.errors.PiecesFailedError` naming their keys.
"""

from __future__ import annotations

import pickle
import traceback
import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError, PdstatsError, PiecesFailedError

__all__ = ["BACKENDS", "PieceFailure", "check_backend", "map_pieces", "piece_seeds", "piece_streams",
           "raise_failures", "seed_of"]

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


def seed_of(random_state: int | np.random.Generator | np.random.SeedSequence | None
            ) -> int | np.random.SeedSequence | None:
    """What :func:`piece_seeds` takes: a Generator gives one integer drawn from it.

    Examples
    --------
    >>> seed_of(5), seed_of(np.random.default_rng(1)) == seed_of(np.random.default_rng(1))
    (5, True)
    """
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    return random_state


def check_backend(backend: str, client: Any = None) -> None:
    """Refuse an unknown backend, or a client without ``backend="dask"``.

    Examples
    --------
    >>> check_backend("local") is None
    True
    """
    if backend not in BACKENDS:
        raise ModelSpecificationError(f"backend must be one of {list(BACKENDS)}, not {backend!r}")
    if backend == "local" and client is not None:
        raise ModelSpecificationError("client= is only used with backend='dask'")


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
    #: the exception itself when it is a (picklable) :class:`~pdstats.PdstatsError`: a
    #: refusal the caller re-raises as it would have without pieces
    exception: BaseException | None = None


@dataclass(frozen=True)
class _Warned:
    """A piece's value and the warnings it issued (category, message)."""

    value: Any
    caught: list


def _guarded(func: Callable[..., Any], args: tuple, shared: tuple = (), record: bool = False) -> Any:
    try:
        if not record:
            return func(*shared, *args)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = func(*shared, *args)
        return _Warned(value, [(w.category, str(w.message)) for w in caught])
    except Exception as exc:  # noqa: BLE001 - reported per piece by the caller
        return PieceFailure(type(exc).__name__, str(exc), traceback.format_exc(), _portable(exc))


def _portable(exc: Exception) -> BaseException | None:
    """The exception if it is a pdstats refusal that survives pickling, else None."""
    if not isinstance(exc, PdstatsError):
        return None
    try:
        return pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - an exception that does not pickle is reported as text
        return None


def _batch(func: Callable[..., Any], batch: list[tuple], record: bool, *shared: Any) -> list[Any]:
    return [_guarded(func, a, shared, record) for a in batch]


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
               desc: str = "pieces", shared: tuple = (), chunksize: int = 1,
               capture_warnings: bool = False) -> dict[Hashable, Any]:
    """Call ``func(*shared, *args[i])`` for every piece; return ``{key: value or PieceFailure}``.

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
    shared : tuple
        Leading arguments common to every piece; with dask they are scattered to every
        worker once instead of travelling with each task.
    chunksize : int
        Pieces per dask task (small pieces: fewer, larger tasks). Each piece is still
        guarded and returned under its own key.
    capture_warnings : bool
        Record every piece's warnings and re-issue them here, in key order, after the
        pieces finish (dask workers' warnings would otherwise stay on the workers).

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

    check_backend(backend, client)
    if len(keys) != len(args):
        raise ModelSpecificationError("map_pieces needs one key per piece")
    shared = tuple(shared)
    if backend == "local":
        values = [_guarded(func, a, shared, capture_warnings)
                  for a in tqdm(list(args), desc=desc, disable=not progress)]
    else:
        from distributed import as_completed

        client = _dask_client(client)
        size = max(1, int(chunksize))
        batches = [list(args[i:i + size]) for i in range(0, len(args), size)]
        # hash=False: a fresh key per call (a hashed key is shared with an earlier call
        # scattering the same value, whose release would cancel these tasks)
        remote = client.scatter(list(shared), broadcast=True, hash=False) if shared else []
        futures = [client.submit(_batch, func, b, capture_warnings, *remote, pure=False) for b in batches]
        position = {f.key: i for i, f in enumerate(futures)}
        done: dict[int, list[Any]] = {}
        with tqdm(total=len(args), desc=desc, disable=not progress) as bar:
            for fut in as_completed(futures):
                done[position[fut.key]] = fut.result()
                bar.update(len(done[position[fut.key]]))
        values = [v for i in range(len(batches)) for v in done[i]]
    out: dict[Hashable, Any] = {}
    for k, v in zip(keys, values, strict=True):
        if isinstance(v, _Warned):
            for category, message in v.caught:
                warnings.warn(message, category, stacklevel=2)
            v = v.value
        out[k] = v
    return out


def raise_failures(outcome: dict[Hashable, Any], what: str, key_names: Sequence[str] | None = None) -> None:
    """Raise if any piece of ``outcome`` failed.

    The first (in key order) pdstats refusal (:class:`~pdstats.PdstatsError`, e.g. a group
    too small to fit) is raised as is, as the job would have raised it without pieces;
    other errors become one :class:`~pdstats.errors.PiecesFailedError` naming every
    failed piece by its key.

    Examples
    --------
    >>> raise_failures({"a": 1.0}, "cells") is None
    True
    """
    failed = [(k, v) for k, v in outcome.items() if isinstance(v, PieceFailure)]
    if not failed:
        return
    for _, f in failed:
        if f.exception is not None:
            raise f.exception
    rows = [{"key": k, "error": f.error, "message": f.message, "traceback": f.traceback} for k, f in failed]
    raise PiecesFailedError(pd.DataFrame(rows), len(outcome), what, key_names)
