"""Fit the float32 polynomials of fastact/_f32_tanh.h.

  fast level: tanh(a), a = min(|x|, AMAX), over 8 intervals of a, degree 6 in s = a - C_i
  (session 9; the index is bits(fma(a, M, 1)) >> 22, two intervals per octave of a M + 1 in
  [1, 16), so the intervals of a are (E_i - 1)/M, E = 1, 1.5, 2, 3, 4, 6, 8, 12, 16);
  interval 0 has C = 0, P0 = 0 and P1 = 1, so that tanh(x) = x keeps its relative accuracy;
  every other C_i is a float within a factor 2 of every a of its interval (s exact, Sterbenz),
  picked near the interval's middle so that tanh(C_i) lies close to a float32 (P0's rounding
  small); relative error, fitted over the interval widened by 2e-6 (the index's rounding)
  accurate level: tanh(x) = x + x^3 * P(x^2), |x| <= atanh(1/2): relative error, P of degree 4
  (the exp polynomials that _f32_tanh.h shares with _f32_exp.h are tools/fit_f32.py's)
  and the splits of gelu_tanh's constant K = 2 sqrt(2/pi) that its fast level needs (mpmath, 50
  digits): K = K20 + K20_LO with K20 a multiple of 2^-20, so that s - K20 is exact for every
  float s in [K20, 16) (the sum s = K20 + v is split without ordering its operands)

Method: weighted least squares on Chebyshev nodes with Lawson's weight updates (converges to the
minimax fit of the relative error), in float64 against numpy's float64 expm1/tanh (errors ~1e-16,
far below the float32 targets). The coefficients are then rounded to float32 one at a time, from
the lowest order up, refitting the higher ones after each rounding; the printed error is that of
the rounded polynomial evaluated exactly (float64) on 200,001 points (20,001 per interval for
the fast level's, whose target is mpmath's tanh at 40 digits).

Run:  python tools/fit_f32_tanh.py   (a second; rewrites fastact/_f32_tanh_coef.h)
"""

import os

import mpmath
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fastact", "_f32_tanh_coef.h")


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


def hexf(c):
    """A float32 value as a C hex literal without trailing zeros (0x0p+0 for zero)."""
    m, e = float.hex(c).split("p")
    return m.rstrip("0").rstrip(".") + "p" + e


def report(name, coef, f, approx, lo, hi, rng, method):
    """C defines of the float32 coefficients, with the measured error of the rounded polynomial."""
    t = np.linspace(lo, hi, 200001)
    t = t[t != 0]
    err = np.max(np.abs(approx(t, coef) / f(t) - 1))
    lines = [
        f"/* {name}: {rng}, {method}, float32 coefficients; max rel. error "
        f"{err:.2e} (2^{np.log2(err):.1f}) on 200,001 points */"
    ]
    for j, c in enumerate(coef):
        lines.append(f"#define FA32T_{name}{j} {hexf(c)}f   /* {np.float32(c).item():.9g} */")
    return "\n".join(lines) + "\n"


# the fast level's piecewise form (_f32_tanh.h, fa32t_tanh_fwd_fast)
PW_M = float(np.float32(1.6))  # index scale: a M + 1 reaches 15.9 at the clamp
PW_AMAX = 9.3125  # clamp of |x|: tanh(9.3125) = 1 - 2^-25.8, rounds to 1 (from 9.0109)
PW_DEG = 6
PW_EDGES = [1, 1.5, 2, 3, 4, 6, 8, 12, 16]  # cells of a M + 1, two per octave


def tanh_mp(a):
    return np.array([float(mpmath.tanh(mpmath.mpf(float(v)))) for v in a])


def pw_centre(lo, hi):
    """A float C near (lo + hi)/2 with C/2 <= lo and hi <= 2C, tanh(C) closest to a float32."""
    u = int(np.float32((lo + hi) / 2).view(np.uint32))
    best = None
    for d in range(-20000, 20001, 7):
        c = float(np.array(u + d, dtype=np.uint32).view(np.float32))
        if not (c / 2 <= lo and hi <= 2 * c):
            continue
        v = mpmath.tanh(mpmath.mpf(c))
        e = abs(float(v - mpmath.mpf(float(np.float32(float(v)))))) / float(v)
        if best is None or e < best[0]:
            best = (e, c)
    return best[1]


def pw_fit(j):
    """Interval j: (lo, hi, C, [P0..P_DEG] float32, max relative error)."""
    lo = (PW_EDGES[j] - 1) / PW_M
    hi = (PW_EDGES[j + 1] - 1) / PW_M if j < 7 else PW_AMAX
    eps = 2e-6 * max(hi, 1)
    lo_f, hi_f = max(lo - eps, 0.0), hi + eps
    C = 0.0 if j == 0 else pw_centre(lo_f, hi_f)
    t = cheb(lo_f, hi_f, 600)
    t = t[t > 0]
    y = tanh_mp(t)
    A = np.stack([(t - C) ** k for k in range(PW_DEG + 1)], axis=1)
    coef = [0.0, 1.0] if j == 0 else []
    while len(coef) <= PW_DEG:
        k = len(coef)
        rest = y - (A[:, :k] @ np.array(coef) if k else 0)
        coef.append(float(np.float32(lawson(A[:, k:], rest, 1 / y, iters=300)[0])))
    tt = np.linspace(lo_f, hi_f, 20001)
    tt = tt[tt > 0]
    err = np.max(np.abs(np.polyval(coef[::-1], tt - C) / tanh_mp(tt) - 1))
    return lo, hi, C, coef, err


def pw_report():
    rows = [pw_fit(j) for j in range(8)]
    # the tables are indexed by (bits(a M + 1) >> 22) & 7: interval j sits at (6 + j) & 7
    C8, P8 = [0.0] * 8, [[0.0] * 8 for _ in range(PW_DEG + 1)]
    lines = [
        "/* TANH_PW: the fast level, tanh(a) for a = min(|x|, AMAX) in 8 intervals, degree "
        f"{PW_DEG} in s = a - C",
        " * (Lawson minimax of the relative error, float32 coefficients, C = 0, P0 = 0, P1 = 1 on "
        "the first);",
        " * slot = (bits(fma(a, M, 1)) >> 22) & 7. Interval, slot, C, max rel. error on 20,001 "
        "points: */",
    ]
    for j, (lo, hi, C, coef, err) in enumerate(rows):
        i = (6 + j) & 7
        C8[i] = C
        for k in range(PW_DEG + 1):
            P8[k][i] = coef[k]
        lines.append(
            f"/*   [{lo:.4f}, {hi:.4f})  {i}  {np.float32(C).item():.7g}  "
            f"{err:.2e} (2^{np.log2(err):.1f}) */"
        )
    lines.append(f"#define FA32T_PW_M {hexf(PW_M)}f   /* {np.float32(PW_M).item():.9g} */")
    lines.append(f"#define FA32T_PW_AMAX {hexf(PW_AMAX)}f   /* {PW_AMAX} */")
    lines.append(f"#define FA32T_PW_DEG {PW_DEG}")
    lines.append(
        "static const float FA32T_PW_C[8] = {" + ", ".join(hexf(c) + "f" for c in C8) + "};"
    )
    lines.append(f"static const float FA32T_PW_P[{PW_DEG + 1}][8] = {{")
    for k in range(PW_DEG + 1):
        lines.append("    {" + ", ".join(hexf(c) + "f" for c in P8[k]) + "},")
    lines.append("};")
    return "\n".join(lines) + "\n"


def tanh_fit(deg, X):
    t = cheb(-X, X, 60 * (deg + 1))
    t = t[t != 0]
    coef = fit(
        lambda x, j: x ** (2 * j + 3),
        lambda x: np.tanh(x) - x,
        lambda x: 1 / np.abs(np.tanh(x)),
        t,
        deg,
    )

    def approx(x, c):
        return x + x**3 * np.polyval(c[::-1], x * x)

    return coef, approx


if __name__ == "__main__":
    # the fast level's piecewise polynomials; tanh's odd polynomial below atanh(1/2), degree 4,
    # for the accurate level (the exp polynomials are _f32_exp.h's, tools/fit_f32.py)
    X = 0.5493061443340549  # atanh(1/2): above it tanh >= 1/2
    mpmath.mp.dps = 40
    text = "/* Generated by tools/fit_f32_tanh.py: do not edit; rerun it. */\n"
    text += pw_report()
    for deg in (4,):
        coef, approx = tanh_fit(deg, X)
        text += report(
            f"TANH_P{deg}_",
            coef,
            np.tanh,
            approx,
            -X,
            X,
            f"tanh(x) - x = x^3 P(x^2), |x| <= atanh(1/2), P of degree {deg}",
            "Lawson minimax of the relative error of tanh",
        )
    mpmath.mp.dps = 50
    K = 2 * mpmath.sqrt(2 / mpmath.pi)
    K20 = mpmath.nint(K * 2**20) / 2**20
    K20_LO = float(np.float32(float(K - K20)))
    rest = float(K - K20 - K20_LO)
    text += (
        "/* gelu_tanh, fast level: K = 2 sqrt(2/pi) = K20 + K20_LO, K20 a multiple of 2^-20\n"
        f" * (21 bits), K20_LO rounded to float32; K - K20 - K20_LO = {rest:.1e} */\n"
        f"#define FA32T_GT_K20 {float.hex(float(K20))[:10]}p+0f\n"
        f"#define FA32T_GT_K20_LO {float.hex(K20_LO)[:10]}p-23f\n"
    )
    assert float.fromhex(f"{float.hex(float(K20))[:10]}p+0") == float(K20)
    assert float.fromhex(f"{float.hex(K20_LO)[:10]}p-23") == K20_LO
    with open(OUT, "w") as f:
        f.write(text)
    print(text, end="")
