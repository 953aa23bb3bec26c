"""Fit the polynomials of fastact/_f32_gelu.h (float32 gelu, erf form, both precision levels)
and WRITE them to fastact/_f32_gelu_coef.h.

Run:  python tools/fit_f32_gelu.py        (from anywhere; about a minute)

Notation: a = |x|, Phi the normal CDF, phi its density, R(a) = erfcx(a/sqrt 2)/2, so that
Phi(-a) = exp(-a^2/2) R(a).

Fast level (float32 coefficients, evaluated in float32): 32 intervals of a, the ones the header's
index bits(a + 1) >> 20 picks (8 per octave of a + 1: width 1/8 on [0, 1), 1/4 on [1, 3), 1/2 on
[3, 7), 1 on [7, 15)); on each a polynomial (degree FDEG = 5 forward, BDEG = 5 backward) in
s = a - c, c the interval's centre:
  forward:   a Phi(-a) for a < 3 (no exp there), a R(a) beyond (times exp(-a^2/2) in the header)
  backward:  Phi(-a) - a phi(a) = gelu'(-a) for a < 3, R(a) - a/sqrt(2 pi) beyond
Weights: relative error of gelu (forward), of gelu' (backward) except where |gelu'| < 1/8 within
1.5 of its zero at a = 0.7518, where the sweeps count ulps of 1/8 (absolute error there).
Method: the centre c is searched (multiples of width/64 in the middle half) so that f(c), the
constant term, is close to a float32: its rounding is an error at s = 0 that no other coefficient
can correct, and alone it is 2^-25 (half an ulp) for an unlucky centre. With c0 = float32(f(c))
fixed, the others are fitted from the lowest degree up, each rounded to float32 and the rest
refitted (Lawson's iteratively reweighted least squares on 80 Chebyshev nodes, converging to the
weighted minimax polynomial; targets in 30-digit mpmath). Errors are measured on 1500 points per
interval in exact arithmetic with the stored coefficients (the float32 evaluation's own roundings
are measured by the exhaustive sweeps, tools/accuracy.py).
Accurate level (double coefficients, evaluated in double): R(t), t = 4/(4+a), a in [0, 14.6],
  degree 11: Lawson for relative error in a Chebyshev basis at 500 Chebyshev nodes, converted
  to monomials in s = t - MID and rounded to double; error measured (double Horner) on 4001
  points. K = 4 and the degree were chosen by trying K = 2..6 and degrees 8..11.
"""

import os

import mpmath as mp
import numpy as np

# the nodes are tools/fit_f32.py's (this directory is the script's, so on sys.path)
from fit_f32 import cheb

mp.mp.dps = 30  # after fit_f32's import, which sets 50
AMAX = 14.6  # accurate level: a*Phi(-a) and a*phi(a) are below 2^-150 beyond (results 0)
S2P = 1 / mp.sqrt(2 * mp.pi)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fastact", "_f32_gelu_coef.h")


def R(a):
    return mp.erfc(a / mp.sqrt(2)) * mp.exp(a * a / 2) / 2


def Phi_neg(a):
    return mp.erfc(a / mp.sqrt(2)) / 2


# ---- fast level: the table-driven form ----
NI = 32  # intervals
NGAUSS = 16  # intervals 0..15 (a < 3) hold the whole function, exp(-a^2/2) included
# degree 5: 2^-25.3 forward, 2^-25.5 backward worst (a in [2.75, 3)), 1.590 / 1.791 ulp exhaustive,
# one permute and one FMA per vector fewer than degree 6 (2^-27.1 / 2^-27.7, 1.595 / 1.791 ulp);
# degree 4 gives 2^-20 on [1, 3). The kernel header takes them from FA32G_FDEG, FA32G_BDEG.
FDEG = 5
BDEG = 5
AMAX_FAST = 14.95  # a is clamped here (n = -161); a Phi(-a), gelu'(-a) < 2^-159 beyond
ROOT = 0.7517915241  # gelu'(-ROOT) = 0
EDGES = [2.0**e * (1 + m / 8) - 1 for e in range(4) for m in range(8)] + [15.0]


def fwd_target(i):
    if i < NGAUSS:
        return lambda a: a * Phi_neg(a)
    return lambda a: a * R(a)


def bwd_target(i):
    if i < NGAUSS:
        return lambda a: Phi_neg(a) - a * S2P * mp.exp(-a * a / 2)
    return lambda a: R(a) - a * S2P


def fwd_weight(i, a, f):
    return 1 / abs(f)


def bwd_weight(i, a, f):
    e = 1 if i < NGAUSS else mp.exp(-a * a / 2)
    g = e * f  # gelu'(-a)
    if abs(g) < mp.mpf(1) / 8 and abs(a - ROOT) < 1.5:
        return 8 * e
    return 1 / abs(f)


def _lawson(B, f, w, iters=100):
    lam = np.full(len(f), 1.0 / len(f))
    for _ in range(iters):
        sq = np.sqrt(lam)
        c = np.linalg.lstsq(B * (w * sq)[:, None], f * w * sq, rcond=None)[0]
        err = np.abs((B @ c - f) * w) + 1e-300
        lam = lam * err
        lam /= lam.sum()
    return c


def _fit_fixed_c0(s, f, w, c0, deg):
    """c0 fixed; c1..deg fitted from the lowest up, each rounded to float32, the rest refitted"""
    cf = [c0]
    for j in range(1, deg + 1):
        B = np.stack([s**k for k in range(j, deg + 1)], 1)
        rem = f - sum(cf[k] * s**k for k in range(j))
        cf.append(float(np.float32(_lawson(B, rem, w)[0])))
    return cf


def _werr(cf, s, f, w):
    p = np.zeros_like(s)
    for cj in reversed(cf):
        p = p * s + cj
    return float(np.max(np.abs(p - f) * w))


def with_payload(c, payload):
    """c as float32 with `payload` or-ed into its low byte (the centres' low bytes are 0)"""
    b = np.float32(c).view(np.uint32)
    assert b & 0xFF == 0 or payload == 0, c
    return float(np.uint32(b | payload).view(np.float32))


def interval_fit(i, target, weight, deg, payload=0):
    """(centre, float32 coefficients, max weighted error) for interval i; the centre carries
    `payload` in its low byte (see table_lines)"""
    f = target(i)
    lo, hi = EDGES[i], min(EDGES[i + 1], AMAX_FAST)
    lo_ext = max(0.0, lo - 2.0**-22 * (lo + 1))  # bits(a + 1) may round up into the interval
    nodes = [float(v) for v in cheb(lo_ext, hi, 80)]
    grid = list(np.linspace(lo_ext, hi, 1500)[(1 if i == 0 else 0) :])  # a = 0: weight 1/0

    def tab(xs):
        fv = [f(mp.mpf(x)) for x in xs]
        return np.array([float(v) for v in fv]), np.array(
            [float(weight(i, mp.mpf(x), v)) for x, v in zip(xs, fv)]
        )

    (fn, wn), (fg, wg) = tab(nodes), tab(grid)
    xn, xg = np.array(nodes), np.array(grid)
    h = EDGES[i + 1] - EDGES[i]
    if i == 0:
        cands = [0.0]
    else:
        step = h / 64
        cands = np.arange(np.ceil((lo + h / 4) / step) * step, hi - h / 4, step)
    best = None
    for c in cands:
        c = with_payload(c, payload)
        c0 = float(np.float32(f(mp.mpf(float(c)))))
        cf = _fit_fixed_c0(xn - c, fn, wn, c0, deg)
        e = _werr(cf, xg - c, fg, wg)
        if best is None or e < best[2]:
            best = (float(c), cf, e)
    return best


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


def magic(bias):
    """1.5 * 2^23 + bias: fma(v, c, magic) rounds v c to an integer n and leaves n + bias in the
    low mantissa bits, so bits << 23 is 2^(n + bias - 127)"""
    return 1.5 * 2**23 + bias


def payload(base, shift):
    """bits(MAG) ^ bits(MAG + shift): what the last two intervals' centres carry in their low
    byte, so that the kernels get their magic constant from the centre they look up anyway,
    MAG's bits xor the centre's low byte (one vpternlogd on AVX-512, no lookup of its own)"""
    m = int(np.float32(magic(base)).view(np.uint32))
    p = m ^ int(np.float32(magic(base + shift)).view(np.uint32))
    assert p < 256, p
    return p


def table_lines(name, fits, scale, base, shift, what, deg):
    """C arrays in the order of the lookup index (bits(a + 1) >> 20) & 31: interval i sits at
    (i + 24) & 31 (bits(1.0f) >> 20 = 0x3f8). C and P[j] (32 wide: AVX-512's vpermt2ps, the
    scalar code) and the same numbers as rows {C, P0, ..., P6} (AVX2 loads a lane's row and
    transposes). MAG: the exp's magic constant, bias `base`; PAY: the payload of the last two
    intervals' centres, which add `shift` to its bias."""
    at = [(p + 8) % NI for p in range(NI)]  # interval held at index p
    lit = lambda v: f32lit(v) if v != 0 else "0.0f"  # noqa: E731
    coef = [[fits[i][0]] + [fits[i][1][j] * scale[i] for j in range(deg + 1)] for i in at]
    out = [
        f"/* {what} */",
        f"#define {name}MAG {f32lit(magic(base))}",
        f"#define {name}PAY 0x{payload(base, shift):02x}u   /* bias {base} + {shift} */",
        f"static const float {name}C[{NI}] = {{" + ", ".join(lit(c[0]) for c in coef) + "};",
        f"#define {name}DEG {deg}",
        f"static const float {name}P[{deg + 1}][{NI}] = {{",
    ]
    for j in range(deg + 1):
        out.append("    {" + ", ".join(lit(c[j + 1]) for c in coef) + "},")
    out += ["};", f"static const float {name}R[{NI}][8] = {{"]
    for c in coef:  # rows padded to 8 (AVX2 loads and transposes 8)
        out.append("    {" + ", ".join(lit(v) for v in c + [0.0] * (6 - deg)) + "},")
    out.append("};")
    return out


def main():
    lines = [
        "/* GENERATED by tools/fit_f32_gelu.py -- do not edit; regenerate with",
        " *   python tools/fit_f32_gelu.py",
        " * The tables and polynomials of fastact/_f32_gelu.h; the method of each is in the",
        " * script's docstring, the error written beside it is measured with the stored",
        " * coefficients. */",
        "#ifndef FASTACT_F32_GELU_COEF_H",
        "#define FASTACT_F32_GELU_COEF_H",
        "",
        "/* ---- fast level, float32 ---- */",
        f"#define FA32G_NGAUSS {NGAUSS}   /* intervals below it (a < 3) need no exp */",
        f"#define FA32G_FAST_AMAX {f32lit(AMAX_FAST)}   /* a is clamped here */",
    ]
    fpay, bpay = payload(126, 162 - 126), payload(130, 161 - 130)
    fwd = [interval_fit(i, fwd_target, fwd_weight, FDEG, fpay if i >= 30 else 0) for i in range(NI)]
    bwd = [interval_fit(i, bwd_target, bwd_weight, BDEG, bpay if i >= 30 else 0) for i in range(NI)]
    # 2^n scalings (see the header): the forward's m2 = 2 m takes 2^(n-1), bias 126; the
    # backward's tables are pre-scaled by 2^-4 (g D (2 + t) cannot overflow for any finite g),
    # bias 130. Intervals 30 and 31 (a >= 13, where 2^n is subnormal) carry 2^-36 (forward) and
    # 2^-35 (backward, in all), biases 162 and 161: 2^(n + bias - 127) stays normal down to the
    # clamp (n = -161), where it is 2^-126 forward (a Phi(-a) rounds to -0) and 0 backward (0, not
    # g gelu'(clamp), beyond it; inf * 0 = NaN for g = +-inf).
    last = [i >= 30 for i in range(NI)]
    fscale = [2.0**-36 if z else 1.0 for z in last]
    bscale = [2.0**-35 if z else 2.0**-4 for z in last]
    ferr = max(f[2] for f in fwd)
    berr = max(b[2] for b in bwd)
    lines += table_lines(
        "FA32G_F",
        fwd,
        fscale,
        126,
        162 - 126,
        f"forward: a Phi(-a) (intervals < NGAUSS), a R(a) (beyond), degree {FDEG} in s = a - C "
        f"over each interval, a in [0, {AMAX_FAST}]: max rel. error {ferr:.2e} "
        f"(2^{np.log2(ferr):.1f}); per interval, log2: "
        + " ".join(f"{np.log2(f[2]):.1f}" for f in fwd),
        FDEG,
    )
    lines += table_lines(
        "FA32G_B",
        bwd,
        bscale,
        130,
        161 - 130,
        f"backward: gelu'(-a) (intervals < NGAUSS), R(a) - a/sqrt(2 pi) (beyond), degree {BDEG}: "
        f"max error of gelu'(-a), relative or in units of 1/8 near its zero, {berr:.2e} "
        f"(2^{np.log2(berr):.1f}); per interval, log2: "
        + " ".join(f"{np.log2(b[2]):.1f}" for b in bwd),
        BDEG,
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
