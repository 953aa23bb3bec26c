"""Fit the polynomials of fastact/_f32_gelu.h (float32 gelu, erf form, both precision levels)
and WRITE them to fastact/_f32_gelu_coef.h.

Run:  python tools/fit_f32_gelu.py        (from anywhere; about ten seconds)

Notation: a = |x|, Phi the normal CDF, phi its density, R(a) = erfcx(a/sqrt 2)/2, so that
Phi(-a) = exp(-a^2/2) R(a).

Fast level (float32 coefficients, evaluated in float32):
  E(u), u = x^2, |x| <= 0.75:   Phi(x) - 1/2 = x E(u)                 (gelu = x/2 + x^2 E)
  Q(t), t = 3/(3+a), a in [0.75, 14.6]:  Q = a R(a)                   (a Phi(-a) = exp(-a^2/2) Q)
  G(t), same t: (d ln Q/dt) t/3, which turns the exact rounding error of t into Q's relative
        change (a correction ~2^-23, so a cubic good to a few percent is plenty)
  F(u), |x| <= 0.75:            Phi(x) + x phi(x) - 1/2 = x F(u)      (gelu' = 1/2 + x F)
  B(t), t = 3/(3+a), a in [0.75, 14.6]:  B = R(a)
        (Phi(-a) - a phi(a) = exp(-a^2/2) (B - a/sqrt(2 pi))), expanded at t = 3/4 (a = 1)
  E is weighted by a/Phi(-a), so its error is gelu's relative error on the negative side (where
  x/2 and x^2 E cancel); F by a/max(|gelu'|, 1/8) (the sweeps count ulps of 1/8 near gelu's
  zero at -0.7518); Q and B for relative error. Method: Lawson's iteratively reweighted least
  squares on 150 Chebyshev nodes (converging to the weighted minimax polynomial), targets in
  30-digit mpmath, coefficients rounded to float32 one at a time from the lowest degree up,
  refitting the rest after each rounding. The written errors are measured on 1001 points in
  exact arithmetic with the stored coefficients (the float32 evaluation's own roundings are
  measured by the exhaustive sweeps, tools/accuracy.py).
Accurate level (double coefficients, evaluated in double): R(t), t = 4/(4+a), a in [0, 14.6],
  degree 11: Lawson for relative error in a Chebyshev basis at 500 Chebyshev nodes, converted
  to monomials in s = t - MID and rounded to double; error measured (double Horner) on 4001
  points. K = 4 and the degree were chosen by trying K = 2..6 and degrees 8..11.
"""

import os

import mpmath as mp
import numpy as np

# the method is tools/fit_f32.py's (this directory is the script's, so on sys.path)
from fit_f32 import cheb as cheb_nodes
from fit_f32 import fit_rounded as fit_f32
from fit_f32 import lawson

mp.mp.dps = 30  # after fit_f32's import, which sets 50
AMAX = 14.6  # a*Phi(-a) and a*phi(a) are below 2^-150 beyond: the float32 results are 0
C0 = 0.75  # fast level: |x| <= C0 the odd polynomials, beyond it the tail
K = 3.0  # fast level: the tails' t = K/(K+a)
BMID = 0.75  # the backward's expansion point, t at a = 1, where gelu' is near its zero
S2P = 1 / mp.sqrt(2 * mp.pi)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fastact", "_f32_gelu_coef.h")


def Phi(x):
    return mp.erfc(-x / mp.sqrt(2)) / 2


def R(a):
    return mp.erfc(a / mp.sqrt(2)) * mp.exp(a * a / 2) / 2


def dgelu(x):
    return Phi(x) + x * S2P * mp.exp(-x * x / 2)


def small(f, weight, deg):
    """float32 polynomial in u = x^2 over |x| <= C0, minimax for |P - f| * weight"""
    us = cheb_nodes(mp.mpf(10) ** -20, C0**2, 150)
    basis = [lambda u, j=j: u**j for j in range(deg + 1)]
    c = fit_f32(us, [f(u) for u in us], [weight(u) for u in us], basis)
    grid = [mp.mpf(v) for v in np.linspace(1e-12, C0**2, 1001)]
    return c, float(
        max(abs(sum(cj * u**j for j, cj in enumerate(c)) - f(u)) * weight(u) for u in grid)
    )


def tail(f, deg, mid=None):
    """float32 polynomial in s = t - MID, t = K/(K+a), a in [C0, AMAX], minimax relative error;
    MID the middle of the range unless given"""
    lo, hi = K / (K + AMAX), K / (K + C0)
    mid = float(np.float32((lo + hi) / 2)) if mid is None else mid
    ts = cheb_nodes(lo, hi, 150)
    fs = [f(K / t - K) for t in ts]
    basis = [lambda t, j=j: (t - mid) ** j for j in range(deg + 1)]
    c = fit_f32(ts, fs, [1 / v for v in fs], basis)
    grid = [mp.mpf(v) for v in np.linspace(lo, hi, 1001)]
    err = max(
        abs(sum(cj * (t - mid) ** j for j, cj in enumerate(c)) / f(K / t - K) - 1) for t in grid
    )
    return mid, c, float(err)


def log_slope(f, mid, deg):
    """(d ln f(K/t - K) / dt) t / K in s = t - mid, minimax (absolute), float32"""
    lo, hi = K / (K + AMAX), K / (K + C0)
    ts = cheb_nodes(lo, hi, 150)

    def g(t):
        h = lambda v: f(K / v - K)  # noqa: E731
        return mp.diff(h, t) / h(t) * t / K

    basis = [lambda t, j=j: (t - mid) ** j for j in range(deg + 1)]
    c = [float(np.float32(v)) for v in lawson(ts, [g(t) for t in ts], [1] * len(ts), basis)]
    grid = [mp.mpf(v) for v in np.linspace(lo, hi, 101)]
    return c, float(
        max(abs(sum(cj * (t - mid) ** j for j, cj in enumerate(c)) - g(t)) for t in grid)
    )


def accurate_tail(Ka, deg, M=500):
    """R in s = t - MID, t = Ka/(Ka+a), a in [0, AMAX], double (see the docstring)"""
    lo, hi = Ka / (Ka + AMAX), 1.0
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    x = np.cos(np.pi * (np.arange(M) + 0.5) / M)
    y = np.array([float(R(Ka / mp.mpf(float(mid + half * xi)) - Ka)) for xi in x])
    A, b, w = np.polynomial.chebyshev.chebvander(x, deg) / y[:, None], np.ones(M), np.ones(M) / M
    for _ in range(400):
        sw = np.sqrt(w)
        c = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)[0]
        w = w * (np.abs(A @ c - b) + 1e-300)
        w /= w.sum()
    mono = np.polynomial.chebyshev.cheb2poly(c)  # in x = s / half
    mono = [float(m / half**j) for j, m in enumerate(mono)]
    t = np.linspace(lo, hi, 4001)
    yy = np.array([float(R(Ka / mp.mpf(float(ti)) - Ka)) for ti in t])
    err = np.max(np.abs(np.polyval(mono[::-1], t - mid) / yy - 1))
    return mid, mono, err


def f32lit(v):
    """a C float literal, exact (float32 has 23 fraction bits: the hex digits end early)"""
    mant, exp = float(np.float32(v)).hex().split("p")
    mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
    return f"{mant}p{exp}f"


def main():
    lines = [
        "/* GENERATED by tools/fit_f32_gelu.py -- do not edit; regenerate with",
        " *   python tools/fit_f32_gelu.py",
        " * The polynomials of fastact/_f32_gelu.h; the method of each is in the script's",
        " * docstring, the error written beside it is measured with the stored",
        " * coefficients. */",
        "#ifndef FASTACT_F32_GELU_COEF_H",
        "#define FASTACT_F32_GELU_COEF_H",
        "",
        "/* ---- fast level, float32 ---- */",
        f"#define FA32G_C0 {f32lit(C0)}   /* |x| <= C0: odd polynomials; beyond: the tails */",
        f"#define FA32G_K {f32lit(K)}     /* the tails' t = K/(K+a) */",
    ]
    hi = np.float32(S2P)
    lines += [
        f"#define FA32G_S2P_HI {f32lit(hi)}   /* 1/sqrt(2 pi) = HI + LO */",
        f"#define FA32G_S2P_LO {f32lit(S2P - mp.mpf(float(hi)))}",
    ]

    def emit(name, c, comment):
        lines.append(f"/* {comment} */")
        for j, v in enumerate(c):
            lines.append(f"#define {name}{j} {f32lit(v)}   /* {float(np.float32(v))!r} */")

    c, err = small(
        lambda u: (Phi(mp.sqrt(u)) - mp.mpf(1) / 2) / mp.sqrt(u),
        lambda u: mp.sqrt(u) / Phi(-mp.sqrt(u)),
        4,
    )
    emit(
        "FA32G_E",
        c,
        f"Phi(x) - 1/2 = x E(x^2), |x| <= {C0}, degree 4 in x^2: max error of "
        f"gelu (relative, x < 0) {err:.2e}",
    )
    mid, c, err = tail(lambda a: a * R(a), 8)
    lines.append(f"#define FA32G_QMID {f32lit(mid)}")
    emit(
        "FA32G_Q",
        c,
        f"a R(a) in s = t - QMID, a in [{C0}, {AMAX}], degree 8: max rel. error {err:.2e}",
    )
    c, err = log_slope(lambda a: a * R(a), mid, 3)
    emit("FA32G_G", c, f"(d ln(a R)/dt) t/K in s = t - QMID, degree 3: max abs. error {err:.2e}")
    c, err = small(
        lambda u: (Phi(mp.sqrt(u)) - mp.mpf(1) / 2) / mp.sqrt(u) + mp.exp(-u / 2) * S2P,
        lambda u: mp.sqrt(u) / max(abs(dgelu(-mp.sqrt(u))), mp.mpf(1) / 8),
        5,
    )
    emit(
        "FA32G_F",
        c,
        f"Phi(x) + x phi(x) - 1/2 = x F(x^2), |x| <= {C0}, degree 5 in x^2: max "
        f"error of gelu' (x < 0) relative to max(|gelu'|, 1/8) {err:.2e}",
    )
    mid, c, err = tail(R, 8, BMID)
    lines.append(f"#define FA32G_BMID {f32lit(mid)}")
    emit(
        "FA32G_B",
        c,
        f"R(a) in s = t - BMID, a in [{C0}, {AMAX}], degree 8: max rel. error {err:.2e}",
    )

    mid, c, err = accurate_tail(4.0, 11)
    lines += [
        "",
        "/* ---- accurate level, double ---- */",
        f"/* R(a) in s = t - AMID, t = 4/(4+a), a in [0, {AMAX}], degree 11: max rel. error "
        f"{err:.2e} */",
        "#define FA32G_AK 4.0",
        f"#define FA32G_AMID {mid!r}",
        "static const double FA32G_AR[12] = {" + ", ".join(repr(v) for v in c) + "};",
        "",
        "#endif",
        "",
    ]
    with open(OUT, "w") as fh:
        fh.write("\n".join(lines))
    print(f"wrote {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
