"""Fit the float32 polynomials of fastact/_f32_tanh.h.

  tanh(x) = x + x^3 * P(x^2), |x| <= atanh(1/2): relative error, P of degree 3 (fast), 4 (accurate)
  (expm1_fit / exp_fit: the same method for e^r on |r| <= ln2/2, kept for comparison with
  tools/fit_f32.py, whose coefficients _f32_exp.h uses)

Method: weighted least squares on Chebyshev nodes with Lawson's weight updates (converges to the
minimax fit of the relative error), in float64 against numpy's float64 expm1/tanh (errors ~1e-16,
far below the float32 targets). The coefficients are then rounded to float32 one at a time, from
the lowest order up, refitting the higher ones after each rounding; the printed error is that of
the rounded polynomial evaluated exactly (float64) on 200,001 points.

Run:  python tools/fit_f32_tanh.py   (prints the C defines pasted into fastact/_f32_tanh.h)
"""
import numpy as np


def lawson(A, b, w0, iters=200):
    w = np.ones(len(b)) / len(b)
    for _ in range(iters):
        sw = np.sqrt(w) * w0
        c, *_ = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)
        e = np.abs((A @ c - b) * w0)
        w = w * e
        w /= w.sum()
    return c


def fit(basis, target, weight, t, deg):
    """target(t) ~ sum_j c_j basis(t, j); rounded to float32 one coefficient at a time."""
    A = np.stack([basis(t, j) for j in range(deg + 1)], axis=1)
    b, w0 = target(t), weight(t)
    fixed = []
    for k in range(deg + 1):
        rest = b - (A[:, :k] @ np.array(fixed) if k else 0)
        c = lawson(A[:, k:], rest, w0)
        fixed.append(float(np.float32(c[0])))
    return fixed


def cheb(lo, hi, m):
    k = np.arange(m)
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / m)


def report(name, coef, f, approx, lo, hi, rng, method):
    t = np.linspace(lo, hi, 200001)
    t = t[t != 0]
    err = np.max(np.abs(approx(t, coef) / f(t) - 1))
    print(f"/* {name}: {rng}, {method}, max rel. error of the float32 coefficients "
          f"{err:.2e} (2^{np.log2(err):.1f}); tools/fit_f32_tanh.py */")
    for j, c in enumerate(coef):
        print(f"#define FA32T_{name}{j} {np.float32(c).item():.9g}f  /* {float.hex(c)} */")
    return err


def expm1_fit(deg, R):
    t = cheb(-R, R, 60 * (deg + 1))
    t = t[t != 0]
    coef = fit(lambda r, j: r ** (j + 2), lambda r: np.expm1(r) - r, lambda r: 1 / np.abs(np.expm1(r)),
               t, deg)
    approx = lambda r, c: r + r * r * np.polyval(c[::-1], r)
    return coef, approx


def exp_fit(deg, R):
    t = cheb(-R, R, 60 * (deg + 1))
    coef = fit(lambda r, j: r ** (j + 2), lambda r: np.expm1(r) - r, lambda r: np.exp(-r), t, deg)
    approx = lambda r, c: 1 + r + r * r * np.polyval(c[::-1], r)
    return coef, approx


def tanh_fit(deg, X):
    t = cheb(-X, X, 60 * (deg + 1))
    t = t[t != 0]
    coef = fit(lambda x, j: x ** (2 * j + 3), lambda x: np.tanh(x) - x, lambda x: 1 / np.abs(np.tanh(x)),
               t, deg)
    approx = lambda x, c: x + x ** 3 * np.polyval(c[::-1], x * x)
    return coef, approx


if __name__ == "__main__":
    # tanh's odd polynomial below atanh(1/2); degree 3 for the fast level, 4 for the accurate one
    # (the exp polynomials are _f32_exp.h's, tools/fit_f32.py)
    X = 0.5493061443340549  # atanh(1/2): above it tanh >= 1/2
    for deg in (3, 4):
        coef, approx = tanh_fit(deg, X)
        report(f"TANH_P{deg}_", coef, np.tanh, approx, -X, X, f"|x| <= atanh(1/2), degree {deg} in x^2",
               "Lawson minimax of the relative error")
