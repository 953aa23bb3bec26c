"""Cold start: what `import fastact` adds to `import numpy`, and the first parallel call.

    python bench/cold_start.py

Each figure is the median of fresh processes. The first large call compiles Numba's block
runner for that direction and dtype and caches it on disk; a second process loads it. The cache
lives in a fresh NUMBA_CACHE_DIR here, as after a new install.
"""

import os
import statistics
import subprocess
import sys
import tempfile

FIRST_CALL = (
    "import time, numpy as np, fastact; x = np.ones(1 << 22, np.float32); "
    "t = time.perf_counter(); fastact.gelu(x); print(time.perf_counter() - t)"
)


def _time(code, env, reps):
    out = []
    for _ in range(reps):
        r = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        out.append(float(r.stdout.strip().splitlines()[-1]))
    return out


def main():
    env = dict(os.environ)
    env.pop("FASTACT_NUM_THREADS", None)
    imp = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"
    numpy_s = statistics.median(_time(imp.format("numpy"), env, 9))
    fastact_s = statistics.median(_time(imp.format("numpy, fastact"), env, 9))
    print(f"import numpy:          {numpy_s * 1e3:7.1f} ms")
    print(
        f"import numpy, fastact: {fastact_s * 1e3:7.1f} ms  "
        f"(+{(fastact_s - numpy_s) * 1e3:.1f} ms; "
        f"numba is not imported)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        first = _time(FIRST_CALL, env, 1)[0]
        second = statistics.median(_time(FIRST_CALL, env, 5))
    print(
        f"first parallel call (gelu, 2**22 float32), first process:  {first * 1e3:7.0f} ms "
        f"(imports numba, compiles, writes the cache)"
    )
    print(f"first parallel call, later processes (cache loaded):        {second * 1e3:7.0f} ms")


if __name__ == "__main__":
    main()
