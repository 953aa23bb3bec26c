"""The parallel paths on an idle machine and beside a busy process: serial, the worker pool
(fastact/_pool.h) and Numba's path, float32, every thread, median of interleaved rounds.

    python bench/pool_contention.py [--kernels sigmoid,relu] [--sizes 65536,1048576]

A second run of each size starts one busy Python process (a `while True: pass` loop, unpinned),
so that the machine has more runnable threads than cores: the case in which a worker that spins
on its core gets descheduled in the middle of a chunk and the caller waits for it.
"""

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np

import fastact
from fastact import _kernels, _parallel
from fastact._ufunc_path import KERNEL_INDEX


def _time(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def measure(name, n, threads, rounds=15):
    k = KERNEL_INDEX[name]
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    y = np.empty_like(x)
    xa, ya = x.ctypes.data, y.ctypes.data
    paths = {
        "serial": lambda: _kernels.forward(k, x, y, 0.0, 0.0),
        "pool": lambda: _kernels.pool_run(k, 0, 0, 0, 0, n, 0, xa, ya, 0.0, 0.0, threads),
        "numba": lambda: _parallel.forward(k, 0, False, n, xa, ya, 0.0, 0.0, threads),
    }
    for fn in paths.values():
        fn()
    number = max(1, int(0.002 / max(_time(paths["serial"], 1), 1e-7)))
    times = {p: [] for p in paths}
    for _ in range(rounds):
        for p, fn in paths.items():
            times[p].append(_time(fn, number))
    return {p: statistics.median(t) for p, t in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernels", default="sigmoid,relu")
    ap.add_argument("--sizes", default="65536,1048576")
    args = ap.parse_args()
    fastact.set_parallel_threshold(1 << 62)  # the paths are called directly
    threads = fastact.get_num_threads()
    print(f"fastact {fastact.__version__}, {_kernels.isa()}, {threads} threads")
    print("| kernel | n | machine | serial us | pool us (x serial) | Numba us (x serial) |")
    print("|---|---|---|---|---|---|")
    for name in args.kernels.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            for busy in (False, True):
                hog = None
                if busy:
                    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    time.sleep(0.3)
                try:
                    t = measure(name, n, threads)
                finally:
                    if hog is not None:
                        hog.kill()
                        hog.wait()
                s = t["serial"]
                print(
                    f"| {name} | {n:,} | {'one busy process' if busy else 'idle'} | "
                    f"{s * 1e6:.1f} | {t['pool'] * 1e6:.1f} ({s / t['pool']:.2f}x) | "
                    f"{t['numba'] * 1e6:.1f} ({s / t['numba']:.2f}x) |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
