"""Numba's parallel path, for large arrays (medium ones run on the worker pool in _pool.h, which
starts in about a microsecond where this path takes 5-10; `python -m fastact.tune` measures, per
kernel, from which size this one is at least as fast). Numba splits a contiguous array into one
block per thread, and each block runs through the same C loop as the serial path, so results are
bit-identical for any thread count.

Why this shape (bench/threading_layers.py measures the alternatives): a @vectorize(target=
'parallel') ufunc would need the kernels' math written a second time in Python, and under Numba's
default omp layer it calls the kernel once per element (about 8x slower than serial). A prange
over a few large blocks that calls the C loop costs one task per thread on any layer.

Threading layer: Numba's TBB layer is the only one that is both thread-safe and fork-safe, so
fastact depends on pip's `tbb` and, because its libtbb.so.12 sits in <prefix>/lib where the
loader does not look, loads it before Numba starts its pool. fastact sets no Numba option: a
NUMBA_THREADING_LAYER you chose is respected. If the layer in use is workqueue (not thread-safe),
concurrent calls take turns on the parallel path, and a call that finds it busy runs serially.
This module is imported on the first call large enough to use it, never by `import fastact`.
"""

import ctypes
import os
import sys
import threading
import warnings


def _load_tbb():
    """Make pip's libtbb.so.12 visible to Numba's tbbpool; returns its path or None."""
    for lib in (os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib")):
        path = os.path.join(lib, "libtbb.so.12")
        if os.path.exists(path):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                return path
            except OSError:
                return None
    return None


TBB_PATH = _load_tbb()

import numba  # noqa: E402
from numba import njit, prange  # noqa: E402

from . import _kernels  # noqa: E402

_kernels.set_threads_cap(numba.config.NUMBA_NUM_THREADS)

# Block boundaries fall on multiples of this many elements (whole cache lines and vectors).
ALIGN = 1024

_P = ctypes.c_ssize_t  # pointers are passed as addresses
_SIG = {
    "fwd_f": (ctypes.c_int, ctypes.c_int, _P, _P, _P, ctypes.c_float, ctypes.c_float),
    "fwd_d": (ctypes.c_int, ctypes.c_int, _P, _P, _P, ctypes.c_double, ctypes.c_double),
    "bwd_f": (
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        _P,
        _P,
        _P,
        _P,
        ctypes.c_float,
        ctypes.c_float,
    ),
    "bwd_d": (
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        _P,
        _P,
        _P,
        _P,
        ctypes.c_double,
        ctypes.c_double,
    ),
}
_ENTRY = {
    key: ctypes.CFUNCTYPE(None, *sig)(addr)
    for key, (sig, addr) in (
        (key, (_SIG[key], addr)) for key, addr in _kernels.entry_points().items()
    )
}


@njit(parallel=True, nogil=True)
def _forward_blocks(entry, k, level, n, x, y, itemsize, p0, p1, nblocks):
    per = ((n + nblocks - 1) // nblocks + ALIGN - 1) // ALIGN * ALIGN
    for b in prange(nblocks):
        i0 = b * per
        i1 = min(n, i0 + per)
        if i0 < i1:
            entry(k, level, i1 - i0, x + i0 * itemsize, y + i0 * itemsize, p0, p1)


@njit(parallel=True, nogil=True)
def _backward_blocks(entry, k, level, from_output, n, g, x, y, itemsize, p0, p1, nblocks):
    per = ((n + nblocks - 1) // nblocks + ALIGN - 1) // ALIGN * ALIGN
    for b in prange(nblocks):
        i0 = b * per
        i1 = min(n, i0 + per)
        if i0 < i1:
            entry(
                k,
                level,
                from_output,
                i1 - i0,
                g + i0 * itemsize,
                x + i0 * itemsize,
                y + i0 * itemsize,
                p0,
                p1,
            )


def _enable_caching():
    """Numba's on-disk cache, where it finds a writable place (beside this file, NUMBA_CACHE_DIR,
    or ~/.cache/numba). In a read-only installation with no writable home, the block runners are
    compiled in each process instead, with one warning."""
    try:
        for blocks in (_forward_blocks, _backward_blocks):
            if hasattr(blocks, "enable_caching"):  # not under NUMBA_DISABLE_JIT=1
                blocks.enable_caching()
    except RuntimeError as e:  # "cannot cache function ...: no locator available"
        warnings.warn(
            f"fastact: Numba found no writable cache directory ({e}); the parallel "
            f"path compiles on its first call in each process (about a second). Set "
            f"NUMBA_CACHE_DIR to a writable directory to keep the compiled code",
            UserWarning,
            stacklevel=2,
        )


_enable_caching()

# Taken while the layer in use is unknown (before the first parallel run) or not thread-safe.
_turns = threading.Lock()
_thread_safe = False


def forward(k, level, is_double, n, x, y, p0, p1, threads):
    """Run kernel k at precision level `level` on n contiguous elements at address x into y on
    `threads` threads."""
    entry = _ENTRY["fwd_d" if is_double else "fwd_f"]
    return _run(_forward_blocks, (entry, k, level, n, x, y, 8 if is_double else 4, p0, p1), threads)


def backward(k, level, from_output, is_double, n, g, x, y, p0, p1, threads):
    entry = _ENTRY["bwd_d" if is_double else "bwd_f"]
    return _run(
        _backward_blocks,
        (entry, k, level, int(from_output), n, g, x, y, 8 if is_double else 4, p0, p1),
        threads,
    )


def _run(blocks, args, threads):
    global _thread_safe
    threads = min(threads, numba.config.NUMBA_NUM_THREADS)
    if threads < 2 or numba.config.DISABLE_JIT:  # no JIT: no thread pool, so run serially
        return False
    if _thread_safe:
        blocks(*args, threads)
        return True
    if not _turns.acquire(blocking=False):
        return False  # another thread is on the parallel path: run serially
    try:
        blocks(*args, threads)
        _thread_safe = numba.threading_layer() != "workqueue"
    finally:
        _turns.release()
    return True


def threading_layer():
    """The Numba threading layer in use (after the first parallel call), else what is configured."""
    try:
        return numba.threading_layer()
    except ValueError:
        return f"not started yet (configured: {numba.config.THREADING_LAYER})"
