"""Measure every kernel's worst error in ulps, as the README's accuracy table shows it.

    python tools/accuracy.py          # about 30 s

float32: the float32_sweep of tests/reference.py (2.1 million values over every exponent) against
the float64 reference; float16: every finite value; float64: 20,000 samples over [-40, 12] and
every exponent, against 50-digit mpmath. Errors count where |reference| is a normal number of the
dtype; near a zero of f' (gelu, gelu_tanh) float64 and float16 backward errors are counted in
ulps of 1/8, as tests/test_accuracy.py does.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import fastact  # noqa: E402
from fastact._table import ACTIVATIONS  # noqa: E402
from reference import (MPMATH, PARAMS, REFERENCE, float32_sweep, mpmath_reference,  # noqa: E402
                       near_grad_root, ulp_error)


def _ufuncs(kernel):
    return getattr(fastact.ufuncs, kernel), getattr(fastact.ufuncs, kernel + "_backward")


def measure(kernel, params):
    fwd, bwd = _ufuncs(kernel)
    rf, rb = REFERENCE[kernel]
    row = {}
    x = float32_sweep()
    g = np.random.default_rng(1).uniform(-2, 2, x.size).astype(np.float32)
    row["float32 fwd"] = ulp_error(fwd(x, *params), rf(x, *params), np.float32).max()
    row["float32 bwd"] = ulp_error(bwd(g, x, *params), rb(g, x, *params), np.float32).max()
    h = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    h = h[np.isfinite(h)]
    hp = [np.float16(p) for p in params]
    row["float16 fwd"] = ulp_error(fwd(h, *params), rf(h, *hp), np.float16).max()
    ref = rb(np.ones_like(h), h, *hp)
    err = ulp_error(bwd(np.ones_like(h), h, *params), ref, np.float16)
    near = near_grad_root(kernel, h.astype(np.float64), ref)
    err[near] = np.abs(bwd(np.ones_like(h), h, *params).astype(np.float64) - ref)[near] / 2.0 ** -13
    row["float16 bwd"] = err.max()
    rng = np.random.default_rng(2)
    d = np.concatenate([rng.uniform(-40, 12, 12000), rng.uniform(-3, 3, 4000),
                        np.sign(rng.uniform(-1, 1, 4000)) * 2.0 ** rng.uniform(-1074, 9, 4000)])
    for direction, f in (("fwd", fwd), ("bwd", bwd)):
        backward = direction == "bwd"
        y = f(np.ones_like(d), d, *params) if backward else f(d, *params)
        if kernel in MPMATH:
            ref = mpmath_reference(kernel, backward, d, params)
        else:
            ref = (rb(np.ones_like(d), d, *params) if backward else rf(d, *params))
        err = ulp_error(y, ref, np.float64)
        if backward:
            near = near_grad_root(kernel, d, ref)
            err[near] = np.abs(y - ref)[near] / 2.0 ** -55
        row[f"float64 {direction}"] = err.max()
    return row


def main():
    cols = ["float32 fwd", "float32 bwd", "float16 fwd", "float16 bwd", "float64 fwd", "float64 bwd"]
    print(f"fastact {fastact.__version__}, ISA {fastact.isa()}: worst error in ulps\n")
    print("| kernel | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for act in ACTIVATIONS:
        for choice, kernel in act.kernels.items():
            row = measure(kernel, PARAMS[kernel][0])
            label = act.name + ("" if choice is None else f"(approximate={choice!r})")
            print(f"| {label} | " + " | ".join(f"{row[c]:.2f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
