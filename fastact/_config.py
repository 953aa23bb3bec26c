"""Threads and the serial/parallel crossover: the settings the fast path (_kernels.pyx) reads.

Thread count: FASTACT_NUM_THREADS, else every core this process may run on; set_num_threads()
changes it for the process, and the num_threads() context manager for the current thread only.
Crossovers: the measured number of elements per kernel and dtype above which the parallel path
(the worker pool, _pool.h) is faster than serial, and above which Numba's path is at least as fast
as the pool (fastact/thresholds.json, as shipped; `python -m fastact.tune` measures this machine
and writes a file that takes precedence). FASTACT_PARALLEL_THRESHOLD, or set_parallel_threshold(n),
sets the first for every kernel; set_parallel_threshold(None) goes back to the measured values.
"""

import contextlib
import json
import numbers
import os
import warnings

from . import _kernels

PACKAGED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "thresholds.json")


def tuned_path():
    """Where `python -m fastact.tune` writes this machine's thresholds."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fastact", "thresholds.json")


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _positive_int(where, name, value):
    """value as a positive int: an integer (not bool), or a string of digits (the environment)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)


_kernels.set_process_threads(
    _positive_int("fastact", "FASTACT_NUM_THREADS", os.environ["FASTACT_NUM_THREADS"])
    if os.environ.get("FASTACT_NUM_THREADS")
    else _cores()
)


def pool_size():
    """The most threads a call can use: NUMBA_NUM_THREADS, by default every core this process
    may use (read without importing Numba until it is imported), since the large-array path runs
    on Numba's pool."""
    import sys

    numba = sys.modules.get("numba")
    if numba is not None:
        return numba.config.NUMBA_NUM_THREADS
    env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else _cores()


# The thread counts live in the extension (a C thread-local for num_threads(), as for the
# precision level), where the fast path reads them without calling back into Python.
_kernels.set_threads_cap(pool_size())


def get_num_threads():
    """Threads the parallel path uses for calls from this thread: the number set, capped at the
    pool's size (pool_size())."""
    return _kernels.get_threads()


def set_num_threads(n):
    """Set the number of threads for the whole process (1: never take the parallel path). More
    than the pool has (NUMBA_NUM_THREADS, by default the cores) is allowed and uses the pool's
    size; get_num_threads() says so."""
    _kernels.set_process_threads(_positive_int("fastact.set_num_threads", "n", n))


@contextlib.contextmanager
def num_threads(n):
    """Use n threads for calls made from this thread inside the block."""
    n = _positive_int("fastact.num_threads", "n", n)
    before = _kernels.set_thread_threads(n)
    try:
        yield n
    finally:
        _kernels.set_thread_threads(before)


# ---- precision level -----------------------------------------------------------------------------
# The level lives in the C extension (a process-wide value and a C thread-local one), because the
# ufunc twins read it on every call, on whichever thread runs them.


def level_index(name, value, none_ok=False):
    """The index of precision level `value`, else a ValueError naming fastact.<name>."""
    if isinstance(value, str) and value in _kernels.LEVELS:
        return _kernels.LEVELS.index(value)
    raise ValueError(
        f"fastact.{name}: precision must be one of "
        f"{', '.join(map(repr, _kernels.LEVELS))}{' or None' if none_ok else ''}, "
        f"got {value!r}"
    )


def get_precision():
    """The precision level in force for calls from this thread: 'fast' or 'accurate'."""
    return _kernels.LEVELS[_kernels.get_level()]


def set_precision(level):
    """Set the precision level for the whole process: 'fast' (the default; float32 within 2 ulp
    forward, 4 ulp backward) or 'accurate' (1 ulp forward, 2 backward). float64 is always
    accurate. A thread inside `with fastact.precision(...)` keeps its own level."""
    _kernels.set_process_level(level_index("set_precision", level))


@contextlib.contextmanager
def precision(level):
    """Use precision level `level` for calls made from this thread inside the block."""
    before = _kernels.set_thread_level(level_index("precision", level))
    try:
        yield level
    finally:
        _kernels.set_thread_level(before)


if os.environ.get("FASTACT_PRECISION"):
    _wanted = os.environ["FASTACT_PRECISION"].strip().lower()
    if _wanted not in _kernels.LEVELS:
        raise ValueError(
            f"fastact: FASTACT_PRECISION={_wanted!r} is not one of {', '.join(_kernels.LEVELS)}"
        )
    set_precision(_wanted)


def _valid_table(table):
    """table if it is {kernel: {dtype: a positive integer or null}}, else None."""
    if not isinstance(table, dict):
        return None
    for by_dtype in table.values():
        if not isinstance(by_dtype, dict):
            return None
        for n in by_dtype.values():
            if n is not None and (type(n) is not int or n < 1):
                return None
    return table


def _valid(data):
    """(data["thresholds"], data["numba_thresholds"] or {}) if data has the shape tune writes,
    else None. A file from before the worker pool has no numba_thresholds: its thresholds were
    measured for Numba's path, which it then never takes (the pool is at least as fast there)."""
    if not isinstance(data, dict):
        return None
    table = _valid_table(data.get("thresholds"))
    numba = _valid_table(data.get("numba_thresholds", {}))
    return None if table is None or numba is None else (table, numba)


def _read_measured():
    """The tuned file if there is one and it is well formed, else the packaged one. A tuned file
    that is unreadable, not JSON or of the wrong shape gives one warning that names it."""
    for path in (tuned_path(), PACKAGED):
        try:
            with open(path) as f:
                tables = _valid(json.load(f))
            why = "it does not have the shape python -m fastact.tune writes"
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as e:
            tables, why = None, f"{type(e).__name__}: {e}"
        if tables is not None:
            return tables + (path,)
        warnings.warn(
            f"fastact: ignoring the thresholds file {path}: {why}; "
            f"{'using the packaged thresholds' if path != PACKAGED else 'serial only'}"
            f" (python -m fastact.tune rewrites it)",
            UserWarning,
            stacklevel=2,
        )
    return {}, {}, None


_measured = _read_measured()  # read once; python -m fastact.tune calls reload_measured()


def measured_thresholds(numba=False):
    """({kernel name: {dtype: elements or None}}, where they came from): from how many elements
    the parallel path runs (numba=True: from how many it runs on Numba's pool instead of the
    worker pool)."""
    return _measured[1 if numba else 0], _measured[2]


def reload_measured():
    """Read the thresholds files again (after `python -m fastact.tune` wrote one)."""
    global _measured
    _measured = _read_measured()
    _install()


_override = None
_numba_override = None  # for tests and tune: force Numba's path from this many elements


def _by_index(table, override):
    """{(kernel index, is_double): elements} from {kernel name: {dtype: elements or None}}."""
    names = [kernel.name for kernel in _kernels.KERNELS]
    if override is not None:
        return {(k, d): override for k in range(len(names)) for d in (0, 1)}
    out = {}
    for k, name in enumerate(names):
        for d, dtype in ((0, "float32"), (1, "float64")):
            n = table.get(name, {}).get(dtype)
            if n is not None:
                out[(k, d)] = int(n)
    return out


def thresholds():
    """{(kernel index, is_double): elements} in force now; a kernel missing never goes parallel."""
    return _by_index(measured_thresholds()[0], _override)


def numba_thresholds():
    """{(kernel index, is_double): elements} from which the parallel path runs on Numba's pool
    rather than the worker pool; a kernel missing never does."""
    return _by_index(measured_thresholds(numba=True)[0], _numba_override)


def _set_numba_threshold(n):
    """Arrays of at least n elements take Numba's path (None: the measured values). Tests and
    tune use it to reach either path at any size."""
    global _numba_override
    _numba_override = n
    _install()


def set_parallel_threshold(n):
    """Arrays of at least n elements take the parallel path; None restores the measured values."""
    global _override
    _override = None if n is None else _positive_int("fastact.set_parallel_threshold", "n", n)
    _install()


def _parallel_forward(k, level, is_double, n, x, y, p0, p1, threads):
    from . import _parallel  # imports Numba: only on the first call that takes this path

    return _parallel.forward(k, level, is_double, n, x, y, p0, p1, threads)


def _parallel_backward(k, level, from_output, is_double, n, g, x, y, p0, p1, threads):
    from . import _parallel

    return _parallel.backward(k, level, from_output, is_double, n, g, x, y, p0, p1, threads)


def _install():
    _kernels.set_parallel_paths(
        _parallel_forward, _parallel_backward, thresholds(), numba_thresholds()
    )


if os.environ.get("FASTACT_PARALLEL_THRESHOLD"):
    _override = _positive_int(
        "fastact", "FASTACT_PARALLEL_THRESHOLD", os.environ["FASTACT_PARALLEL_THRESHOLD"]
    )
_install()


def show_config():
    """Print what this process runs with: version, instruction set, Numba, threads, thresholds."""
    import numpy

    from . import __version__, _parallel

    table, source = measured_thresholds()
    print(f"fastact {__version__}, numpy {numpy.__version__}")
    print(
        f"serial kernels: {_kernels.isa()} (built: {', '.join(_kernels.built_isas())}; "
        f"FASTACT_ISA={os.environ.get('FASTACT_ISA', '')!r})"
    )
    print(
        f"precision: {get_precision()} (process: {_kernels.LEVELS[_kernels.get_process_level()]}"
        f", FASTACT_PRECISION={os.environ.get('FASTACT_PRECISION', '')!r})"
    )
    print(
        f"numba {_parallel.numba.__version__}, threading layer: {_parallel.threading_layer()}"
        f" (libtbb: {_parallel.TBB_PATH or 'not found'})"
    )
    jobs, workers, _ = _kernels.pool_stats()
    print(
        f"threads: {get_num_threads()} (cores available: {_cores()}, Numba's pool: {pool_size()});"
        f" worker pool: {workers} workers started, {jobs:,} calls run"
    )
    if _override is not None:
        print(f"parallel threshold: {_override:,} elements for every kernel (override)")
    else:
        numba_table, _ = measured_thresholds(numba=True)
        print(
            f"parallel thresholds, elements: worker pool from / Numba from "
            f"({source or 'none measured: serial only'}):"
        )
        for name, by_dtype in sorted(table.items()):
            cells = ", ".join(
                f"{d} {_elements(v)} / {_elements(numba_table.get(name, {}).get(d))}"
                for d, v in by_dtype.items()
            )
            print(f"  {name:12s} {cells}")


def _elements(n):
    return "never" if n is None else f"{n:,}"
