"""Measure every kernel's worst error in ulps, as the README's accuracy table shows it.

    python tools/accuracy.py          # about 30 s, both precision levels
    python tools/accuracy.py --exhaustive [FUNC ...] [--precision accurate] [--reference numpy]
                                      # all 2**32 float32 inputs, forward and backward
    python tools/accuracy.py --exhaustive FUNC --grad-output random
                                      # the backward with grad_output uniform in [-2, 2]
    python tools/accuracy.py --exhaustive FUNC --grad-output top
                                      # grad_output that puts g f'(x) at the top of its binade

The exhaustive sweep runs every float32 bit pattern through fastact in chunks of 2**20, with
progress, against a float64 reference: fastact's float64 kernels (the default; their
own accuracy is tested against 50-digit mpmath, and they share no code with the float32 math),
or with --reference numpy the plain NumPy/SciPy formulas of fastact.testing (slower, and
themselves off by up to x*x/2 float64 ulps in gelu's tail, far below a float32 ulp). Errors count
where the reference is a normal float32; the backward runs with grad_output = 1 and counts ulps of
1/8 near a zero of f', as the tests do; with --grad-output random, grad_output is drawn uniformly
from [-2, 2] (seeded, the same draws on every run) and near a zero of f' errors count in |g|
ulps of 1/8, as fastact.testing.errors counts them. With --grad-output top, g is chosen for each x
so that |g f'(x)| lies just below a power of two (g = +-(1 - 2^-22)/m, f'(x) = m 2^e, the sign
seeded), where the result's ulp is smallest beside it: there a relative error of f'(x) counts the
most (up to 2^24 ulps per unit) and a kernel that rounds f'(x) before g multiplies it meets its
worst case for every x at once, which a random g meets rarely (tests/test_accuracy.py's
test_float32_backward_worst_grad_output does the same on a sample). About a minute per function
and direction with --reference float64 on one core (top: a third more, for the g = 1 reference).

float32: fastact.testing.float32_sweep (2.1 million values over every exponent) against
the float64 reference; float16: every finite value; float64: 20,000 samples over [-40, 12] and
every exponent, against 50-digit mpmath. Errors count where |reference| is a normal number of the
dtype; near a zero of f' (gelu, gelu_tanh, silu, mish) backward errors are counted in ulps of
1/8, as tests/test_accuracy.py does. Parameters count as the values the dtype holds.
"""

import sys

import numpy as np

import fastact
from fastact._table import ACTIVATIONS
from fastact.testing import (
    KERNELS,
    errors,
    float32_sweep,
    near_grad_root,
    ulp_error,
)


def _ufuncs(kernel):
    return getattr(fastact.ufuncs, kernel), getattr(fastact.ufuncs, kernel + "_backward")


def measure(kernel, params, float64=True):
    fwd, bwd = _ufuncs(kernel)
    rf = KERNELS[kernel].forward
    row = {}
    x = float32_sweep()
    g = np.random.default_rng(1).uniform(-2, 2, x.size).astype(np.float32)
    p32 = np.float32(params)
    row["float32 fwd"] = ulp_error(fwd(x, *params), rf(x, *p32), np.float32).max()
    row["float32 bwd"] = errors(kernel, bwd(g, x, *params), x, params, True, g).max()
    h = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    h = h[np.isfinite(h)]
    hp = [np.float32(p) for p in params]  # float16 is computed in float32, parameters too
    row["float16 fwd"] = ulp_error(fwd(h, *params), rf(h, *hp), np.float16).max()
    row["float16 bwd"] = errors(kernel, bwd(np.ones_like(h), h, *params), h, params, True).max()
    if not float64:
        return row
    rng = np.random.default_rng(2)
    d = np.concatenate(
        [
            rng.uniform(-40, 12, 12000),
            rng.uniform(-3, 3, 4000),
            np.sign(rng.uniform(-1, 1, 4000)) * 2.0 ** rng.uniform(-1074, 9, 4000),
        ]
    )
    for direction, f in (("fwd", fwd), ("bwd", bwd)):
        backward = direction == "bwd"
        y = f(np.ones_like(d), d, *params) if backward else f(d, *params)
        # against 50-digit mpmath (the exact kernels: their float64 formula)
        row[f"float64 {direction}"] = errors(kernel, y, d, params, backward).max()
    return row


CHUNK = 1 << 20  # small enough for the cache, large enough that Python's overhead vanishes


def sweep(kernel, backward, level, reference="float64", params=None, progress=True, grad="one"):
    """(worst error in ulps, the float32 x where it is) over all 2**32 float32 inputs; grad: the
    backward's grad_output, "one", "random" (uniform in [-2, 2]) or "top" (|g f'(x)| just below a
    power of two, as the module's docstring says)."""
    params = KERNELS[kernel].params[0] if params is None else params
    p32 = tuple(float(np.float32(p)) for p in params)
    uf = getattr(fastact.ufuncs, kernel + ("_backward" if backward else ""))
    ref_f = KERNELS[kernel].reference(backward)
    worst, where = 0.0, None
    tiny, big = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
    base = np.arange(CHUNK, dtype=np.uint32)
    bits = np.empty(CHUNK, np.uint32)
    x = bits.view(np.float32)
    x64, g32, g64 = np.empty(CHUNK), np.ones(CHUNK, np.float32), np.ones(CHUNK)
    gabs = np.abs(g64)
    y32, y, ref, ulp, err = (
        np.empty(CHUNK, np.float32),
        np.empty(CHUNK),
        np.empty(CHUNK),
        np.empty(CHUNK, np.float32),
        np.empty(CHUNK),
    )

    def reference_into(*args):  # the float64 reference for these operands, into ref
        if reference == "float64":
            uf(*args, *p32, out=ref)
        else:
            ref[...] = ref_f(*args, *p32)

    for c in range(0, 1 << 32, CHUNK):
        np.add(base, np.uint32(c), out=bits)
        with np.errstate(invalid="ignore"):  # the sweep's signaling NaNs, quieted by the casts
            np.copyto(x64, x)
        if backward and grad == "random":
            g32[...] = np.random.default_rng(c).uniform(-2, 2, CHUNK)
        elif backward and grad == "top":
            g64[...] = 1.0
            reference_into(g64, x64)
            with np.errstate(all="ignore"):
                mant = np.abs(np.frexp(ref)[0])  # |f'(x)| = mant 2^e, mant in [0.5, 1)
                top = (1 - 2.0**-22) / mant
                sign = np.random.default_rng(c).random(CHUNK) < 0.5
                g32[...] = np.where(np.isfinite(top), np.where(sign, -top, top), 1.0)
        if backward and grad != "one":
            np.copyto(g64, g32)
            np.abs(g64, out=gabs)
        with fastact.precision(level):
            uf(*((g32, x) if backward else (x,)), *p32, out=y32)
        with np.errstate(invalid="ignore"):
            np.copyto(y, y32)
        reference_into(*((g64, x64) if backward else (x64,)))
        with np.errstate(all="ignore"):
            np.abs(ref, out=err)
            np.copyto(ulp, err, casting="unsafe")
            np.spacing(ulp, out=ulp)
            skip = (err < tiny) | (y == ref) | (np.isnan(y) & np.isnan(ref))
            skip |= (err > big) & (y == ref.astype(np.float32))  # beyond float32: inf expected
            np.subtract(y, ref, out=err)
            np.abs(err, out=err)
            if backward:  # near a zero of f': |g| ulps of 1/8
                near = near_grad_root(kernel, x64, ref / np.where(gabs == 0, 1, gabs))
                near &= gabs > 0
                ulp[near] = gabs[near] * 2.0**-26
            np.divide(err, ulp, out=err)
        err[skip] = 0.0
        err[np.isnan(err)] = np.inf
        i = int(np.argmax(err))
        if err[i] > worst:
            worst, where = float(err[i]), float(x[i])
        if progress and (c // CHUNK) % 256 == 255:
            print(
                f"  {kernel}{' backward' if backward else ''} {level}: "
                f"{(c + CHUNK) / (1 << 32):4.0%}, worst so far {worst:.3f} ulp at x={where!r}",
                file=sys.stderr,
                flush=True,
            )
    return worst, where


GRAD_OUTPUT = {
    "one": "",
    "random": " (backward: grad_output uniform in [-2, 2])",
    "top": " (backward: grad_output putting g f'(x) just below a power of two)",
}


def exhaustive(names, level, reference, grad="one"):
    print(
        f"fastact {fastact.__version__}, ISA {fastact.isa()}, precision {level}, reference "
        f"{reference}: worst error in ulps over all 2**32 float32 inputs{GRAD_OUTPUT[grad]}\n"
    )
    print("| kernel | forward | at x | backward | at x |")
    print("|---|---|---|---|---|")
    for act in ACTIVATIONS:
        for kernel in act.kernels.values():
            if names and kernel not in names and act.name not in names:
                continue
            cells = []
            for backward in (False, True):
                if grad != "one" and not backward:  # the forward has no grad_output
                    cells += ["—", "—"]
                    continue
                worst, where = sweep(kernel, backward, level, reference, grad=grad)
                cells += [f"{worst:.3f}", f"{where!r}"]
            print(f"| {kernel} | " + " | ".join(cells) + " |", flush=True)


def main():
    import argparse

    ap = argparse.ArgumentParser(description="worst errors in ulps")
    ap.add_argument(
        "--exhaustive",
        nargs="*",
        metavar="FUNC",
        default=None,
        help="sweep all 2**32 float32 inputs (of FUNC ..., default every function)",
    )
    ap.add_argument("--precision", default="fast", choices=["fast", "accurate"])
    ap.add_argument("--reference", default="float64", choices=["float64", "numpy"])
    ap.add_argument(
        "--grad-output",
        default="one",
        choices=list(GRAD_OUTPUT),
        help="the exhaustive backward's grad_output: 1, uniform in [-2, 2], or g putting "
        "g f'(x) just below a power of two",
    )
    args = ap.parse_args()
    if args.exhaustive is not None:
        exhaustive(args.exhaustive, args.precision, args.reference, args.grad_output)
        return
    cols = [
        "float32 fwd",
        "float32 bwd",
        "float16 fwd",
        "float16 bwd",
        "float64 fwd",
        "float64 bwd",
    ]
    print(f"fastact {fastact.__version__}, ISA {fastact.isa()}: worst error in ulps\n")
    print("| kernel | precision | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 2) + "|")
    for act in ACTIVATIONS:
        for choice, kernel in act.kernels.items():
            for level in ("fast", "accurate"):
                params = KERNELS[kernel].params[0]
                with fastact.precision(level):
                    if level == "fast":
                        row = measure(kernel, params)
                    else:  # float64 has one level: its columns stay the fast row's
                        row = {**row, **measure(kernel, params, float64=False)}
                label = act.name + ("" if choice is None else f"(approximate={choice!r})")
                print(f"| {label} | {level} | " + " | ".join(f"{row[c]:.2f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
