"""The memory-bound backwards against NumPy's multiply (the same three streams: grad_output and
x read, the result written), float32, one thread, out= given, interleaved rounds, median.

With gcc's default tuning the AVX-512 loops of these backwards loaded grad_output by a masked
move (vmovups (g), zmm{k}), which on Zen 5 ran them at about half NumPy's speed once the arrays
left the cache; _kernels.h compiles them under tune=intel. Run it under FASTACT_ISA=avx2 for the
loops that never had a masked load.

    python bench/masked_load.py [--sizes 1048576,4194304] [--rounds 9]
"""

import argparse
import os
import statistics
import time

import numpy as np

import fastact


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1048576,4194304")
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    fastact.set_num_threads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    rng = np.random.default_rng(0)
    print(f"fastact {fastact.__version__}, ISA {fastact._kernels.isa()}")
    for n in map(int, args.sizes.split(",")):
        x = rng.standard_normal(n).astype(np.float32)
        g = rng.standard_normal(n).astype(np.float32)
        out = np.empty_like(x)
        cases = {
            "relu'": lambda: fastact.relu_backward(g, x, out=out),
            "leaky_relu'": lambda: fastact.leaky_relu_backward(g, x, 0.01, out=out),
            "hardtanh'": lambda: fastact.hardtanh_backward(g, x, -1.0, 1.0, out=out),
            "relu6'": lambda: fastact.relu6_backward(g, x, out=out),
            "hardswish'": lambda: fastact.hardswish_backward(g, x, out=out),
            "np.multiply": lambda: np.multiply(g, x, out=out),
        }
        times = {k: [] for k in cases}
        for _ in range(args.rounds):
            for k, f in cases.items():
                f()
                t = time.perf_counter()
                f()
                f()
                times[k].append((time.perf_counter() - t) / 2)
        cells = (f"{k} {n / statistics.median(v) / 1e9:.2f}" for k, v in times.items())
        print(f"n = {n:,}, Gelem/s: " + ", ".join(cells))


if __name__ == "__main__":
    main()
