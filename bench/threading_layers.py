"""Why the parallel path is a prange over blocks calling the C loops, on the TBB layer.

    python bench/threading_layers.py

For each Numba threading layer (one process each), relu and gelu on 2**22 float32 elements, into
a separate array, median of 15 calls on every thread:
  vectorize   @vectorize(target='parallel') with the math in Python (relu; gelu through math.erf,
              which Numba cannot vectorize without SVML)
  prange+C    fastact's parallel path: one block per thread, each through the serial C loop
and, for scale, fastact's serial C loop on one thread. Also printed: whether the layer is
thread-safe and fork-safe according to Numba's documentation.
"""

import json
import os
import subprocess
import sys

CHILD = r"""
import json, math, os, statistics, sys, time
import numpy as np
import fastact
from fastact import _parallel            # loads libtbb, then Numba
import numba
from numba import vectorize

@vectorize(["float32(float32)"], target="parallel")
def relu_vec(x):
    return x if x > 0 else np.float32(0)

@vectorize(["float32(float32)"], target="parallel")
def gelu_vec(x):
    return np.float32(0.5 * x * (1.0 + math.erf(x * 0.7071067811865476)))

def median_rate(f, n, reps=15):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return n / statistics.median(ts) / 1e9

n = 1 << 22
x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
y = np.empty_like(x)
threads = fastact.get_num_threads()
res = {"layer": None}
fastact.set_parallel_threshold(1 << 40)       # serial path only, for the serial figures
res["serial C relu"] = median_rate(lambda: fastact.relu(x, out=y), n)
res["serial C gelu"] = median_rate(lambda: fastact.gelu(x, out=y), n)
res["vectorize relu"] = median_rate(lambda: relu_vec(x, out=y), n)
res["vectorize gelu"] = median_rate(lambda: gelu_vec(x, out=y), n)
fastact.set_parallel_threshold(1)
res["prange+C relu"] = median_rate(lambda: fastact.relu(x, out=y), n)
res["prange+C gelu"] = median_rate(lambda: fastact.gelu(x, out=y), n)
res["layer"] = numba.threading_layer()
res["threads"] = threads
print(json.dumps(res))
"""

SAFETY = {"tbb": ("yes", "yes"), "omp": ("yes", "no (GNU OpenMP)"), "workqueue": ("no", "yes")}


def main():
    rows = []
    for layer in ("tbb", "omp", "workqueue"):
        env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
        r = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{layer}: unavailable ({r.stderr.strip().splitlines()[-1]})")
            continue
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    print(
        f"2**22 float32, out= a separate array, Gelem/s (median of 15), "
        f"{rows[0]['threads'] if rows else '?'} threads\n"
    )
    cols = [
        "serial C relu",
        "vectorize relu",
        "prange+C relu",
        "serial C gelu",
        "vectorize gelu",
        "prange+C gelu",
    ]
    print("| layer | thread-safe | fork-safe | " + " | ".join(cols) + " |")
    print("|---" * (3 + len(cols)) + "|")
    for r in rows:
        safe, fork = SAFETY.get(r["layer"], ("?", "?"))
        print(
            f"| {r['layer']} | {safe} | {fork} | " + " | ".join(f"{r[c]:.2f}" for c in cols) + " |"
        )


if __name__ == "__main__":
    main()
