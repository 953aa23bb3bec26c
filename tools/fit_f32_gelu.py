"""Fit the polynomial of fastact/_f32_gelu.h (float32 gelu, erf form, both precision levels).

The float32 kernels compute the normal tail in double: with a = |x| (clamped to 14.6),
    Phi(-a) = exp(-a*a/2) * R(a),   R(a) = erfcx(a/sqrt 2) / 2,
and R is a polynomial in s = t - MID, t = K/(K+a), over the whole range a in [0, 14.6].
Fitted by Lawson-weighted least squares (minimax in the limit) for relative error, in a
Chebyshev basis at Chebyshev nodes, with targets in 40-digit mpmath, then converted to monomials
in s and rounded to double.  The printed error is the measured relative error of the rounded
polynomial (double Horner) against mpmath on 4001 points.

Run:  python tools/fit_f32_gelu.py   (prints the C arrays pasted into fastact/_f32_gelu.h)
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
AMAX = 14.6   # a*Phi(-a) and a*phi(a) are below 2^-150 beyond: the float32 results are 0


def R(a):
    return mp.erfc(a / mp.sqrt(2)) * mp.exp(a * a / 2) / 2


def lawson(V, y, iters=400):
    """min over c of max |V c - y| / |y|"""
    A = V / y[:, None]
    b = np.ones(len(y))
    w = np.ones(len(y)) / len(y)
    for _ in range(iters):
        sw = np.sqrt(w)
        c = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)[0]
        w = w * (np.abs(A @ c - b) + 1e-300)
        w /= w.sum()
    return c


def fit(K, deg, M=500):
    lo, hi = K / (K + AMAX), 1.0
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    x = np.cos(np.pi * (np.arange(M) + 0.5) / M)
    y = np.array([float(R(K / mp.mpf(float(mid + half * xi)) - K)) for xi in x])
    c = lawson(np.polynomial.chebyshev.chebvander(x, deg), y)
    mono = np.polynomial.chebyshev.cheb2poly(c)              # in x = s / half
    mono = [float(m / half ** j) for j, m in enumerate(mono)]
    t = np.linspace(lo, hi, 4001)
    yy = np.array([float(R(K / mp.mpf(float(ti)) - K)) for ti in t])
    err = np.max(np.abs(np.polyval(mono[::-1], t - mid) / yy - 1))
    return mid, mono, err


if __name__ == "__main__":
    # fast: K = 3, degree 9 (9.5e-9); accurate: K = 4, degree 11 (2.8e-10). K and the degrees
    # were chosen by trying K = 2..6 and degrees 8..11.
    for name, K, deg in (("F", 3.0, 9), ("A", 4.0, 11)):
        mid, c, err = fit(K, deg)
        print(f"/* R(t), t = {K:g}/({K:g}+a), a in [0, {AMAX}], s = t - MID, degree {deg}: max rel. "
              f"error {err:.2e} */")
        print(f"#define FA32G_{name}K {K!r}\n#define FA32G_{name}MID {mid!r}")
        print(f"static const double FA32G_{name}R[{deg + 1}] = {{" + ", ".join(repr(v) for v in c) + "};")
