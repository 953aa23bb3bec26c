"""Fit the polynomial F(t) with erfc(z) = exp(-z*z) * t * F(t), t = K/(K+z).

F is smooth on (0, 1], so a single polynomial in s = (t - mid)/half covers the whole range that
matters.  Coefficients are fitted by least squares at Chebyshev nodes in 60-digit mpmath arithmetic,
rounded to double, and the printed error is the measured relative error of the *rounded* polynomial,
evaluated with double Horner steps, against mpmath on 20,001 points.

Run:  python tools/fit_erfcx.py   (prints the C arrays pasted into fastact/_kernels.h)
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 60


def F(t, K):
    z = K / t - K
    return mp.erfc(z) * mp.exp(z * z) / t


def fit(K, z_max, degree):
    t_lo = mp.mpf(K) / (K + z_max)
    mid, half = float((1 + t_lo) / 2), float((1 - t_lo) / 2)
    m = 3 * degree
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / m) for k in range(m)]
    A = mp.matrix([[s ** j for j in range(degree + 1)] for s in nodes])
    b = mp.matrix([F(mid + half * s, K) for s in nodes])
    coef = mp.lu_solve(A.T * A, A.T * b)
    coef = [float(c) for c in coef]
    worst = 0.0
    for s in np.linspace(-1, 1, 20001):
        acc = coef[-1]
        for c in reversed(coef[:-1]):
            acc = acc * s + c
        exact = F(mp.mpf(mid) + mp.mpf(half) * mp.mpf(float(s)), K)
        worst = max(worst, abs(float((acc - exact) / exact)))
    return mid, half, coef, worst


if __name__ == "__main__":
    # K and the degrees were chosen by trying K = 2, 3, 4, 6: the smallest degree that meets the
    # target (1e-9 relative for float32 results computed in double, 2e-17 for float64).
    for name, K, z_max, deg in (("F32", 3, 10.5, 11), ("F64", 4, 27.5, 22)):
        mid, half, coef, worst = fit(K, z_max, deg)
        print(f"/* {name}: t = {K}/({K}+z), z in [0, {z_max}], s = (t - MID) / HALF, degree {deg}, "
              f"max rel. error of the rounded polynomial {worst:.2e} */")
        print(f"#define {name}_K {K}.0\n#define {name}_MID {mid!r}\n#define {name}_HALF {half!r}")
        print(f"static const double {name}_C[{deg + 1}] = {{" +
              ", ".join(repr(c) for c in coef) + "};")
