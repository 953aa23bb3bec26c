"""Runtime instruction-set dispatch: every instruction set the CPU has gives the same bits, at both
precision levels."""

import os
import subprocess
import sys

LEVELS = ["baseline", "avx2", "avx512"]

DIGEST = r"""
import hashlib, numpy as np, fastact
from fastact._ufunc_path import UFUNCS
rng = np.random.default_rng(0)
x64 = np.concatenate([rng.standard_normal(4099) * 6, rng.uniform(-40, 40, 4099),
                      rng.uniform(-100, 20, 4099), -np.geomspace(1e-30, 1e4, 4099),
                      [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-310, -1e308]])
h = hashlib.sha256()
for level, dt in [(level, dt) for level in ("fast", "accurate")
                  for dt in (np.float16, np.float32, np.float64)]:
    x = x64.astype(dt)
    for name, uf in sorted(UFUNCS.items()):
        args = (x[::-1], x) if "_backward" in name else (x,)  # from the output too
        args += (0.1,) * (uf.nin - len(args))
        with fastact.precision(level):
            h.update(np.ascontiguousarray(uf(*args)).tobytes())
        if uf.nin == len(args) and dt != np.float16:
            fn = getattr(fastact, name, None)
            if fn is not None:
                h.update(fn(*args, precision=level).tobytes())
print(fastact.isa(), h.hexdigest())
"""


def _run(level):
    env = dict(os.environ, FASTACT_ISA=level)
    r = subprocess.run([sys.executable, "-c", DIGEST], env=env, capture_output=True, text=True)
    return r


def test_levels_give_identical_bits():
    results = {}
    for level in LEVELS:
        r = _run(level)
        if (
            "asks for more than this CPU has" in r.stderr
            or "is not compiled in this build" in r.stderr
        ):  # -DFASTACT_NO_X86_DISPATCH, aarch64
            continue
        assert r.returncode == 0, r.stderr
        isa, digest = r.stdout.split()
        assert isa == level
        results[level] = digest
    assert "baseline" in results
    assert len(set(results.values())) == 1, results


def test_bad_isa_name_is_an_error():
    r = _run("sse9")
    assert (
        r.returncode != 0 and "FASTACT_ISA='sse9' is not one of baseline, avx2, avx512" in r.stderr
    )
