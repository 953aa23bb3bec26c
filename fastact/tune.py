"""Measure where the parallel path starts to pay, per kernel and dtype, on this machine.

    python -m fastact.tune            # writes ~/.cache/fastact/thresholds.json (~70 s, 2 cores)
    python -m fastact.tune --package  # writes fastact/thresholds.json, the shipped defaults

For each kernel and dtype, the serial path (1 thread), the worker pool and Numba's path (every
thread) run forward, out of place, on sizes from 2**12 to 2**23 elements, with its default
parameters at the precision level in force (fast, unless FASTACT_PRECISION says otherwise),
interleaved, 15 rounds, median. The pool's threshold is the smallest size at which it is at least
20% faster than serial, both there and in the median over every larger size; Numba's, the
smallest from which Numba's path is at least as fast as the pool, in the same sense; None where
there is none; over two passes (--passes), the larger crossover. The fast path reads the file at
import.
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time

import numpy as np

from . import _config, _kernels
from ._table import ACTIVATIONS
from ._ufunc_path import KERNEL_INDEX

# Each kernel runs with its function's default parameters (as p0, p1).
DEFAULTS = {
    KERNEL_INDEX[kname]: (tuple(d for _, d in act.params) + (0.0, 0.0))[:2]
    for act in ACTIVATIONS
    for kname in act.kernels.values()
}

SIZES = [1 << p for p in range(12, 24)]
GAIN = 1.2  # a smaller gain is within the noise of these machines and buys a Numba start-up


def _time_per_call(fn, x, number):
    """Seconds per call of fn(x), averaged over `number` calls in a row."""
    t0 = time.perf_counter()
    for _ in range(number):
        fn(x)
    return (time.perf_counter() - t0) / number


def _first_gaining(ratios, gain):
    """The smallest size whose ratio is at least `gain`, both there and in the median over every
    larger size (one noisy round must neither hide a crossover nor invent one), else None."""
    for i, (n, r) in enumerate(ratios):
        if r >= gain and statistics.median(s for _, s in ratios[i:]) >= gain:
            return n
    return None


def crossover(k, dtype, threads, rounds=15):
    """(first size the worker pool is GAIN x faster than serial, first size Numba's path is at
    least as fast as the pool, [(size, serial/pool, pool/numba)])."""
    from . import _parallel

    is_double = int(dtype == "float64")
    level = _kernels.get_level()
    p0, p1 = DEFAULTS[k]
    ratios = []
    for n in SIZES:
        # out of place: applied in place, over and over, the data drifted to the function's
        # fixed points (mish's and silu's negative side decays into subnormals), which made the
        # thresholds measure subnormal arithmetic (mish: parallel "slower" up to 512k elements)
        x = np.random.default_rng(0).standard_normal(n).astype(dtype)
        y = np.empty_like(x)
        xaddr, yaddr = x.ctypes.data, y.ctypes.data

        def serial(a):
            _kernels.forward(k, a, y, p0, p1)  # below any threshold in force during tuning

        def pool(a):  # where the pool declines (too few elements to split), serial
            if not _kernels.pool_run(
                k, level, 0, 0, is_double, n, 0, xaddr, yaddr, p0, p1, threads
            ):
                serial(a)

        def numba(a):
            _parallel.forward(k, level, is_double, n, xaddr, yaddr, p0, p1, threads)

        for path in (serial, pool, numba):
            path(x)
        t0 = time.perf_counter()
        serial(x)
        number = max(1, int(0.002 / max(time.perf_counter() - t0, 1e-7)))
        times = {serial: [], pool: [], numba: []}
        for _ in range(rounds):
            for path in times:  # interleaved: drift hits all three
                times[path].append(_time_per_call(path, x, number))
        s, p, m = (statistics.median(times[path]) for path in (serial, pool, numba))
        ratios.append((n, s / p, p / m))
    return (
        _first_gaining([(n, r) for n, r, _ in ratios], GAIN),
        _first_gaining([(n, r) for n, _, r in ratios], 1.0),
        ratios,
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", action="store_true", help="write the shipped defaults")
    ap.add_argument("--passes", type=int, default=2, help="measure everything this many times")
    args = ap.parse_args(argv)
    threads = _config.get_num_threads()
    if threads < 2:
        sys.exit("fastact.tune: 1 thread available, so the parallel path is never used")
    _config.set_parallel_threshold(1 << 62)  # tune the paths directly, not the dispatcher
    table, numba_table, detail = {}, {}, {}
    # Whole passes, one after the other, and the largest crossover any pass found: on a shared
    # machine one pass's crossover moved by 2-4x between runs, and a size sent to the parallel
    # path too early runs slower than serial. "Never" wins only if every pass says so: a pass
    # says never for the memory-bound kernels whose gain hovers at the 1.2 bar (hardswish,
    # leaky_relu), which the other pass finds at 1.3-1.7x from a few million elements up.
    for p in range(max(1, args.passes)):
        for name, k in KERNEL_INDEX.items():
            for dtype in ("float32", "float64"):
                t, t_numba, ratios = crossover(k, dtype, threads)
                for tab, v in ((table, t), (numba_table, t_numba)):
                    found = [u for u in (tab.get(name, {}).get(dtype, None), v) if u is not None]
                    tab.setdefault(name, {})[dtype] = max(found) if found else None
                detail.setdefault(f"{name} {dtype}", []).append(
                    {str(n): [round(a, 3), round(b, 3)] for n, a, b in ratios}
                )
                print(
                    f"pass {p + 1} {name:12s} {dtype}: pool from {_config._elements(t)}, "
                    f"Numba from {_config._elements(t_numba)}   serial/pool, pool/Numba "
                    + " ".join(f"{n >> 10}k:{a:.2f},{b:.2f}" for n, a, b in ratios),
                    flush=True,
                )
    path = _config.PACKAGED if args.package else _config.tuned_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(
            {
                "measured": datetime.datetime.now().isoformat(timespec="seconds"),
                "threads": threads,
                "isa": _kernels.isa(),
                "thresholds": table,
                "numba_thresholds": numba_table,
                "ratios_serial_over_pool_and_pool_over_numba": detail,
            },
            f,
            indent=1,
        )
    _config.set_parallel_threshold(None)
    _config.reload_measured()
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
