"""Fit the float32 polynomials of fastact/_f32_exp.h (the shared exp/expm1 core and log1p).

Method: Lawson's iteratively reweighted least squares on Chebyshev nodes (it converges to the
weighted minimax polynomial), targets in 50-digit mpmath, then the coefficients are rounded to
float32 one at a time from the lowest degree up, refitting the rest after each rounding, so the
printed error is that of the float32 coefficients (in exact arithmetic; the float32 evaluation's
own roundings are measured by the exhaustive sweeps, not here).

  exp core:  expm1(r) = r + r^2 * P(r),  |r| <= ln2/2 (plus a margin for the x_lo fold-in),
             minimizing the RELATIVE error of expm1(r), max |r^2 (P - P*)| / |expm1(r)|; the
             same P serves exp(r) = 1 + r + r^2 P(r) with a smaller relative error.
  log1p:     log1p(E) = 2 atanh(s) = 2s + 2s^3 R(s^2),  s = E/(2+E) in [0, 1/3],
             minimizing the relative error of 2 atanh(s).

Run:  python tools/fit_f32.py      (prints the C definitions pasted into fastact/_f32_exp.h)
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 50


def lawson(xs, fs, ws, basis, fixed=None, iters=400):
    """Weighted minimax fit of fs ~ sum c_j basis_j(x) with weights ws (relative error scale);
    fixed: {j: value} coefficients held at given values."""
    fixed = fixed or {}
    free = [j for j in range(len(basis)) if j not in fixed]
    B = np.array([[float(b(x)) for b in basis] for x in xs])
    f = np.array([float(v) for v in fs]) - sum(B[:, j] * v for j, v in fixed.items())
    w = np.array([float(v) for v in ws])
    lam = np.full(len(xs), 1.0 / len(xs))
    for _ in range(iters):
        sq = np.sqrt(lam)
        c, *_ = np.linalg.lstsq(B[:, free] * (w * sq)[:, None], f * w * sq, rcond=None)
        err = np.abs((B[:, free] @ c - f) * w)
        lam = lam * err
        lam /= lam.sum()
    out = dict(fixed)
    out.update(zip(free, c))
    return [out[j] for j in range(len(basis))]


def fit_rounded(xs, fs, ws, basis):
    fixed = {}
    for j in range(len(basis)):
        c = lawson(xs, fs, ws, basis, fixed)
        fixed[j] = float(np.float32(c[j]))
    return [fixed[j] for j in range(len(basis))]


def cheb(a, b, m):
    return [mp.mpf(a + b) / 2 + mp.mpf(b - a) / 2 * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / m)
            for k in range(m)]


def exp_core(deg, rmax):
    xs = cheb(-rmax, rmax, 400)
    fs = [(mp.expm1(r) - r) / r**2 for r in xs]
    ws = [r**2 / abs(mp.expm1(r)) for r in xs]
    basis = [lambda r, j=j: r**j for j in range(deg + 1)]
    c = fit_rounded(xs, fs, ws, basis)
    grid = [mp.mpf(v) for v in np.linspace(-rmax, rmax, 4001) if v != 0]
    em1 = ex = 0
    for r in grid:
        P = sum(mp.mpf(cj) * r**j for j, cj in enumerate(c))
        t = r + r * r * P
        em1 = max(em1, abs((t - mp.expm1(r)) / mp.expm1(r)))
        ex = max(ex, abs((1 + t - mp.exp(r)) / mp.exp(r)))
    return c, float(em1), float(ex)


def log1p_core(deg):
    us = cheb(0, mp.mpf(1) / 9, 200)
    fs = [(mp.atanh(mp.sqrt(u)) / mp.sqrt(u) - 1) / u for u in us]      # R(u), u = s^2
    ws = [u / (mp.atanh(mp.sqrt(u)) / mp.sqrt(u)) for u in us]          # relative error of L
    basis = [lambda u, j=j: u**j for j in range(deg + 1)]
    c = fit_rounded(us, fs, ws, basis)
    worst = 0
    for s in np.linspace(1e-6, 1.0 / 3, 4001):
        s = mp.mpf(s)
        R = sum(mp.mpf(cj) * (s * s)**j for j, cj in enumerate(c))
        worst = max(worst, abs((2 * s + 2 * s**3 * R - 2 * mp.atanh(s)) / (2 * mp.atanh(s))))
    return c, float(worst)


def show(name, c, comment):
    print(f"/* {comment} */")
    for j, cj in enumerate(c):
        h = float(cj).hex()
        m, e = h.split("p")
        print(f"#define {name}{j} {m.rstrip('0').rstrip('.')}p{e}f   /* {cj!r} */")


if __name__ == "__main__":
    # |r| <= ln2/2 + 2^-16: n = round(x * float32(log2 e)) may miss by up to ~1e-5 (|x| <= 104)
    # near a half-integer, and the caller's argument low part is folded into r.
    rmax = float(mp.log(2) / 2) + 2.0**-16
    for deg, name in ((4, "FA32_EXPF_P"), (5, "FA32_EXPA_P")):
        c, em1, ex = exp_core(deg, rmax)
        show(name, c, f"expm1(r) = r + r^2 P(r), |r| <= {rmax:.6f}, P of degree {deg} (total {deg + 2}), "
             f"Lawson minimax for relative error, float32 coefficients: max rel. error "
             f"{em1:.2e} (expm1), {ex:.2e} (exp); tools/fit_f32.py")
    for deg, name in ((3, "FA32_LOG1PF_R"), (4, "FA32_LOG1PA_R")):
        c, worst = log1p_core(deg)
        show(name, c, f"log1p(E) = 2s + 2s^3 R(s^2), s = E/(2+E) in [0, 1/3], R of degree {deg}, "
             f"Lawson minimax for relative error, float32 coefficients: max rel. error {worst:.2e}; "
             f"tools/fit_f32.py")
