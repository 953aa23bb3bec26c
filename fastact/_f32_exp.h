/* float32 math at two precision levels: the shared float32 building blocks (exp, expm1) and the
 * exp family (sigmoid, silu, softplus, elu, selu, celu).
 *
 * Contract of every kernel NAME here and in _f32_tanh.h and _f32_gelu.h (kind MATH in
 * FASTACT_KERNELS):
 *   float NAME_fwd32(float x, float p0, float p1, const int acc)
 *   float NAME_bwd32(float g, float x, float p0, float p1, const int acc)   grad_output * f'(x)
 *   float NAME_bwo32(float g, float y, float p0, float p1, const int acc)   from the output y
 *                                                                           (OWN kernels only)
 * acc = 0 is the fast level (forward <= 2 ulp, backward <= 4 ulp over every float32 input whose
 * result is a normal float32), acc = 1 the accurate level (<= 1 ulp forward, <= 2 backward).
 * A NaN x never reaches them (the loop returns it); +-inf must give the limits. They are
 * branch-free (selects only) so gcc vectorizes the loops, use FMA only through fa32_fma (one
 * rounding on every instruction set), and never an approximate reciprocal, so every
 * instruction set gives the same bits.
 */
#ifndef FASTACT_F32_EXP_H
#define FASTACT_F32_EXP_H

/* ==== float32 building blocks (prefix fa32_), shared with _f32_tanh.h and _f32_gelu.h =========
 *
 * Everything is plain float32 IEEE arithmetic plus fa32_fma, always inlined, branch-free.
 * What a caller gets:
 *   fa32_fma, fa32_abs, fa32_min, fa32_max, fa32_negabs_clamp   basic, bit-exact helpers
 *   fa32_two_prod(a, b)        a*b = hi + lo exactly (FMA)
 *   fa32_fast2sum(a, b)        a+b = hi + lo exactly, requires |a| >= |b| (or a = 0)
 *   fa32_div_fix(q0, n, n_lo, d, d_lo, inv)
 *                              corrected quotient of (n + n_lo)/(d + d_lo) from any q0 within a
 *                              few ulps and inv ~ 1/d to >= 12 bits: one division per quotient
 *                              (or none, when the caller has 1/d already)
 *   fa32_exp_core(x, x_lo, acc)
 *                              e^(x + x_lo) = (1 + t) * 2^n, parts kept apart (fa32_exp_t), so that
 *                              a caller multiplies first and scales last, rounding once
 *   fa32_pow2(E) / fa32_scale(m, E)
 *                              2^n; m * 2^n rounded once, also into the subnormal range
 *   fa32_expm1_neg(x, x_lo, acc)   expm1 as an unevaluated hi + lo pair
 *   fa32_a_expm1_w(a, a_lo, w, w_lo, acc)
 *                              a * expm1(w + w_lo) rounded once, w in [-88, 0] clamped by the
 *                              caller (elu, selu, celu)
 *   fa32_exp_lean(w, w_lo), fa32_sig_lean(L)
 *                              the fast level's exp for w <= 0 and sigmoid(w) from it
 *   fa32_exp_lean_est(w)       the same exp, polynomial by Estrin (a shorter chain, other
 *                              roundings): sigmoid and silu forward, silu backward
 *   fa32_exp_lean_add(w, w_lo) the same exp with w_lo added by one rounded addition (backwards)
 *   fa32_exp_lean_acc(w, w_lo) the accurate level's lean exp, t + t_lo to ~2^-28: sigmoid,
 *                              sigmoid', silu, softplus'
 *   fa32_sig_pair(t, t_lo, s)  sigmoid(w) and 1 - sigmoid(w) as hi + lo pairs from it
 *   fa32_sig_deep(w, w_lo, v), fa32_sig_deep_from(L, v), fa32_grad_post(g, v)
 *                              the fast backwards' sigmoid (f0 + remainder, scaled by 2^64 in the
 *                              deep tail) and the grad_output that goes with it
 * acc = 0: degree-6 polynomial, t single; acc = 1: degree-7, r and t carried as hi + lo.
 */
#include <stdint.h>
#include <string.h>

FA_INLINE float fa32_from_bits(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
FA_INLINE uint32_t fa32_to_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

/* a*b + c rounded once: one instruction on AVX2/AVX-512, libm's fmaf (same rounding) on the
 * baseline build. Everything else stays unfused (-ffp-contract=off). */
FA_INLINE float fa32_fma(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
FA_INLINE float fa32_abs(float x) { return fa32_from_bits(fa32_to_bits(x) & 0x7fffffffu); }
/* NaN-preserving clamps (a comparison with NaN is false) */
FA_INLINE float fa32_min(float x, float hi) { return x > hi ? hi : x; }
FA_INLINE float fa32_max(float x, float lo) { return x < lo ? lo : x; }

typedef struct { float hi, lo; } fa32_pair;

/* a*b = hi + lo exactly (barring underflow of lo) */
FA_INLINE fa32_pair fa32_two_prod(float a, float b)
{
    fa32_pair P;
    P.hi = a * b;
    P.lo = fa32_fma(a, b, -P.hi);
    return P;
}
/* a+b = hi + lo exactly when |a| >= |b| (Dekker's Fast2Sum; -fno-associative-math keeps it) */
FA_INLINE fa32_pair fa32_fast2sum(float a, float b)
{
    fa32_pair S;
    S.hi = a + b;
    S.lo = b - (S.hi - a);
    return S;
}
/* Corrected division: (n + n_lo) / (d + d_lo) to ~2^-40 relative as q0 + return value (add it
 * last, in the caller's final FMA). q0 is any approximation within a few ulps (n/d, or n * inv);
 * inv approximates 1/d to 12 bits or better. The remainder fma(-q0, d, n) is exact. */
FA_INLINE float fa32_div_fix(float q0, float n, float n_lo, float d, float d_lo, float inv)
{
    float rem = fa32_fma(-q0, d, n) + fa32_fma(-q0, d_lo, n_lo);
    return rem * inv;
}

/* ---- exp ------------------------------------------------------------------------------------
 * n = round(x / ln2) by the magic bias 0x1.8000FEp23 = 1.5*2^23 + 127: the FMA's rounding to an
 * integer leaves n + 127 in the low mantissa bits, so bits(tm) << 23 is 2^n directly (valid for
 * n in [-126, 127]; the shift drops the bias bits). r = x - n*ln2 with ln2 = HI + LO:
 * fma(n, -HI, x) is exact (|x| < 128 is a multiple of 2^-17, n*HI of 2^-24, |r| < 1/2), so r
 * is off only by the rounding of n*LO (and of r - n*LO, which acc = 1 keeps as r_lo).
 * x is clamped to [-112, 88.75]: n in [-162, 128], enough for every subnormal e^x (and x e^x,
 * |x| <= 112) and for overflow. */
#define FA32_MAGIC 0x1.8000fep23f
#define FA32_LOG2E 0x1.715476p+0f
#define FA32_LN2_HI 0x1.62e43p-1f     /* float32(ln 2) */
#define FA32_LN2_LO -0x1.05c61p-29f   /* ln 2 - HI, to 2^-53 */
#define FA32_EXP_XMIN -112.0f
#define FA32_EXP_XMAX 88.75f
/* ln(2^-126) rounded up to float32, and the first x whose n is -127: arguments below the first
 * have results below FLT_MIN; callers that clamp must clamp at these, never at a round -87. */
#define FA32_LN_FLT_MIN -0x1.5d589ep+6f   /* -87.33654 */
/* A clamp for fa32_exp_lean where its result must vanish: n = -191 there, and 2^(n+64) from the
 * magic sum's bits (bias 191) is +0, so e^w is exactly 0 below it (n = -191 for w in
 * [-132.74, -132.04]; from -132.04 up, e^w 2^64 is a normal float32) */
#define FA32_EXP_XZERO -132.5f

/* FA32_EXPF_P0..4 (fast, degree 6 in all), FA32_EXPA_P0..5 (accurate, degree 7), FA32_LOG1PF_R0..3
 * and FA32_LOG1PA_R0..4: written by tools/fit_f32.py, with their ranges and errors */
#include "_f32_exp_coef.h"

/* a literal 0.0f argument: its additions are dropped (r + 0.0f is not foldable in IEEE) */
#define FA32_IS_ZERO(v) (__builtin_constant_p(v) && (v) == 0.0f)
#define FA32_IS_ONE(v) (__builtin_constant_p(v) && (v) == 1.0f)

typedef struct {
    float n;    /* integer-valued, in [-162, 128] */
    float tm;   /* magic sum: bits(tm) << 23 = 2^n for n in [-126, 127] */
    float t;    /* e^r - 1 (acc = 1: t + t_lo) */
    float t_lo;
    float p;    /* e^r = 1 + t rounded (acc = 1: p + p_lo = 1 + t + t_lo) */
    float p_lo;
} fa32_exp_t;

/* The accurate level's last steps, shared by every exp core: e^(r + r_lo) - 1 = r + r^2 P +
 * r_lo (1 + r) to ~2^-50 (|r_lo| <= 2^-25) as t + t_lo, and 1 + t + t_lo as p + p_lo; r^2 =
 * R.hi + R.lo exactly, as its rounding alone would cost 0.15 ulp of expm1 near n = 0. */
FA_INLINE void fa32_exp_finish_acc(fa32_exp_t *E, float r, float r_lo, float P)
{
    fa32_pair R = fa32_two_prod(r, r);
    float q = fa32_fma(R.hi, P, fa32_fma(R.lo, P, fa32_fma(r_lo, r, r_lo)));
    fa32_pair T = fa32_fast2sum(r, q);                      /* |q| <= |r|/5 */
    E->t = T.hi;
    E->t_lo = T.lo;
    fa32_pair S = fa32_fast2sum(1.0f, E->t);
    E->p = S.hi;
    E->p_lo = S.lo + E->t_lo;
}

/* P of the fast level's e^r - 1 = r + r^2 P(r) (Horner, degree 4) */
FA_INLINE float fa32_expm1_fast_poly(float r)
{
    float P = fa32_fma(fa32_fma(fa32_fma(FA32_EXPF_P4, r, FA32_EXPF_P3), r, FA32_EXPF_P2), r,
                       FA32_EXPF_P1);
    return fa32_fma(P, r, FA32_EXPF_P0);
}

/* The fast level's e^r - 1 for r = x + x_lo - n ln2 (n integer-valued, |r| <= 0.3466): degree 6,
 * shared by fa32_exp_core_ and fa32_exp_lean. x_lo (0.0f when there is none: it folds away; up
 * to 4e-6 for |x| ~ 100) enters as r + r_lo, r_lo exact by Fast2Sum (|r| >= |x_lo| wherever it
 * matters), and t = r + (r^2 P + r_lo (1 + r)) is rounded once (r + x_lo rounded first would
 * cost 0.5 ulp of t near n = 0). */
FA_INLINE float fa32_expm1_fast(float n, float x, float x_lo)
{
    float r = fa32_fma(n, -FA32_LN2_LO, fa32_fma(n, -FA32_LN2_HI, x)), r_lo = 0.0f;
    if (!FA32_IS_ZERO(x_lo)) {
        float rr = r + x_lo;
        r_lo = (r - rr) + x_lo;
        r = rr;
    }
    float P = fa32_expm1_fast_poly(r);
    if (FA32_IS_ZERO(x_lo))
        return fa32_fma(r * r, P, r);
    return r + fa32_fma(r * r, P, fa32_fma(r_lo, r, r_lo));
}

/* e^(x + x_lo) = (p + p_lo) * 2^n = (1 + t + t_lo) * 2^n, |x_lo| <= ulp(x) (pass 0.0f when
 * there is none: the constant folds away). A fast-level product M e^r is best formed as
 * fma(t, M, M), one rounding: the rounding of p = 1 + t alone costs up to 1 ulp (p just above 1). Fast (acc = 0): t from the degree-6 polynomial,
 * relative error ~1e-8 + roundings, p_lo = t_lo = 0. Accurate (acc = 1): degree 7, and r, t,
 * p carried as hi + lo, so 1 + t + t_lo is good to ~2^-28 relative. */
FA_INLINE fa32_exp_t fa32_exp_core_(float x, float x_lo, const int acc)
{
    fa32_exp_t E;
    E.tm = fa32_fma(x, FA32_LOG2E, FA32_MAGIC);
    E.n = E.tm - FA32_MAGIC;
    float r1 = fa32_fma(E.n, -FA32_LN2_HI, x);            /* exact */
    if (!acc) {
        E.t = fa32_expm1_fast(E.n, x, x_lo);
        E.t_lo = 0.0f;
        E.p = 1.0f + E.t;
        E.p_lo = 0.0f;
    } else {
        float nlo = E.n * FA32_LN2_LO;                     /* |n*LO| < 3e-7, error < 2^-45 */
        float r = r1 - nlo;
        float r_lo = (r1 - r) - nlo;                       /* Fast2Sum error of r1 - nlo */
        if (!FA32_IS_ZERO(x_lo)) {                         /* as at acc = 0 */
            float rr = r + x_lo;
            r_lo += (r - rr) + x_lo;
            r = rr;
        }
        float P = fa32_fma(fa32_fma(FA32_EXPA_P5, r, FA32_EXPA_P4), r, FA32_EXPA_P3);
        P = fa32_fma(fa32_fma(P, r, FA32_EXPA_P2), r, FA32_EXPA_P1);
        P = fa32_fma(P, r, FA32_EXPA_P0);
        fa32_exp_finish_acc(&E, r, r_lo, P);
    }
    return E;
}

FA_INLINE fa32_exp_t fa32_exp_core(float x, float x_lo, const int acc)
{
    return fa32_exp_core_(fa32_max(fa32_min(x, FA32_EXP_XMAX), FA32_EXP_XMIN), x_lo, acc);
}

/* 1/d to 1.1% for d in [1, 2] (quadratic, Lawson-fitted): enough for a division's correction
 * term, which is itself ~2^-24 of the quotient */
FA_INLINE float fa32_recip12(float d)
{
    return fa32_fma(fa32_fma(d, 0x1.50fbfp-2f, -0x1.78faf0p+0f), d, 0x1.11348cp+1f);
}

/* 2^n for n in [-126, 127] (outside: garbage; use fa32_scale) */
FA_INLINE float fa32_pow2(fa32_exp_t E) { return fa32_from_bits(fa32_to_bits(E.tm) << 23); }
/* 2^(n+64), normal for n in [-190, 63] (+0 for n = -191: FA32_EXP_XZERO) */
FA_INLINE float fa32_pow2_64(fa32_exp_t E)
{
    return fa32_from_bits((fa32_to_bits(E.tm) + 64u) << 23);
}

/* m * 2^n rounded once, for n <= 63 (every caller with x <= 0) and 2^-60 <= |m| <= 2^60:
 * m * 2^(n+64) is normal (exact), and the single rounding happens in the last multiply, into
 * the subnormal range when the result is there (gradual underflow done right). */
FA_INLINE float fa32_scale(float m, fa32_exp_t E)
{
    float s64 = fa32_pow2_64(E);
    return (m * s64) * 0x1p-64f;
}

/* expm1(x + x_lo) for x <= 0 (positive x is treated as 0) as hi + lo, hi already within ~1 ulp:
 *   2^n (1 + t) - 1 = (2^n p - 1) + 2^n p_lo,
 * 2^n p is exact and 2^n p - 1 is split exactly (Fast2Sum, |-1| >= 2^n p), so the pair is as
 * good as the exp core; near 0 (n = 0) it is t + t_lo itself, no cancellation.
 * Fast: hi = fma(2^n, t, 2^n - 1) (2^n - 1 exact for n >= -24), lo = 0.
 * Below -17.4 hi = -1 exactly (x clamped at -88 so that 2^n stays a normal float). */
FA_INLINE fa32_pair fa32_expm1_neg(float x, float x_lo, const int acc)
{
    fa32_pair R;
    x = fa32_max(fa32_min(x, 0.0f), -88.0f);
    fa32_exp_t E = fa32_exp_core(x, x_lo, acc);
    float s = fa32_pow2(E);
    if (!acc) {
        R.hi = fa32_fma(s, E.t, s - 1.0f);
        R.lo = 0.0f;
    } else {
        /* n = 0 takes t + t_lo itself: there (p - 1) + p_lo is not normalized (p_lo's own
         * rounding would cost 0.25 ulp for tiny x) */
        fa32_pair S = fa32_fast2sum(-1.0f, s * E.p);
        R.hi = E.n == 0.0f ? E.t : S.hi;
        R.lo = E.n == 0.0f ? E.t_lo : fa32_fma(s, E.p_lo, S.lo);
    }
    return R;
}

/* ==== the exp family ============================================================================ */

/* a * expm1(w + w_lo) for w in [-88, 0] (the caller clamps: fa32_negabs_clamp where x > 0 is
 * discarded, two integer operations; the float clamps of both ends compiled to 13 k-mask
 * operations on AVX-512, fused with the loop's NaN test), rounded once (a = alpha, SCALE*ALPHA;
 * a_lo its low part or 0.0f). At -88, n = -127 and 2^n = +0: the result is -a exactly.
 * Fast: a (2^n t + 2^n - 1) = A + (a 2^n t + A_lo) with a (2^n - 1) = A + A_lo exact, so the
 * product with a adds no rounding of its own (a * expm1 rounded twice costs 1.9 ulp).
 * Accurate: expm1 = (s - 1) + s r + s q with s = 2^n, r = w - n HI exact and q = e^(r + r_lo)
 * - 1 - r = r^2 P(r) + r_lo (1 + r) (r_lo = -n LO + w_lo folded in as in fa32t_exp_core: up
 * to 2^-17, the r_lo^2/2 and r_lo r^2/2 it leaves out are below 2^-21 s, far below every
 * result's last bit; r^2 as R + R_lo exactly, degree-7 polynomial). s - 1 = D + D_lo exactly
 * (D_lo = 0 for n >= -24; s below 2^-24 rounds into D = -1) and D + s r = S + S_lo exactly
 * (Fast2Sum: |D| >= 1/2 > |s r| for n <= -1, D = 0 at n = 0), so expm1 = S + lo with one
 * rounded lo = s q + S_lo + D_lo, |lo| < 0.2 |S|, and the product with a rounds once more, last.
 * It replaced expm1 as hi + lo from the exp core's p + p_lo (fa32_expm1_neg: 1 + t, t and r
 * carried by three Fast2Sums and a select for n = 0): with the clamp above, elu's AVX-512 loop
 * went from 61 to 35 instructions per 16 lanes (load to store; the fast level 43 -> 26, same
 * bits) and 1.58 -> 5.0 Gelem/s (1M, one Zen 5 core; fast 2.4 -> 7.6). */
FA_INLINE float fa32_a_expm1_w(float a, float a_lo, float w, float w_lo, const int acc)
{
    if (acc) {
        float tm = fa32_fma(w, FA32_LOG2E, FA32_MAGIC);
        float n = tm - FA32_MAGIC;
        float r = fa32_fma(n, -FA32_LN2_HI, w);            /* exact */
        float r_lo = FA32_IS_ZERO(w_lo) ? n * -FA32_LN2_LO : fa32_fma(n, -FA32_LN2_LO, w_lo);
        float P = fa32_fma(fa32_fma(FA32_EXPA_P5, r, FA32_EXPA_P4), r, FA32_EXPA_P3);
        P = fa32_fma(fa32_fma(P, r, FA32_EXPA_P2), r, FA32_EXPA_P1);
        P = fa32_fma(P, r, FA32_EXPA_P0);
        fa32_pair R = fa32_two_prod(r, r);
        float q = fa32_fma(R.hi, P, fa32_fma(R.lo, P, fa32_fma(r_lo, r, r_lo)));
        float s = fa32_from_bits(fa32_to_bits(tm) << 23);
        float D = s - 1.0f;
        float D_lo = s - (D + 1.0f);
        fa32_pair S = fa32_fast2sum(D, s * r);
        float lo = fa32_fma(s, q, S.lo + D_lo);
        float alo = a * lo;
        if (!FA32_IS_ZERO(a_lo))
            alo = fa32_fma(a_lo, S.hi, alo);
        return fa32_fma(a, S.hi, alo);
    }
    fa32_exp_t E = fa32_exp_core_(w, w_lo, 0);
    float s = fa32_pow2(E), sm1 = s - 1.0f;
    fa32_pair A = fa32_two_prod(a, sm1);
    float lo = A.lo;
    if (!FA32_IS_ZERO(a_lo))
        lo = fa32_fma(a_lo, fa32_fma(s, E.t, sm1), lo);
    return A.hi + fa32_fma(a * s, E.t, lo);
}

/* ---- the fast level's lean exp (sigmoid, silu, their backwards, softplus') ------------------
 * The same reduction and degree-6 polynomial as fa32_exp_core at acc = 0 (the same t, bit for
 * bit), cut to what a sigmoid needs: w <= 0 only, no p, and 2^(n+64) straight from the magic
 * sum (bias 191 = 127 + 64 in place of 127: the shift gives 2^(n+64) for n in [-190, 63], one
 * integer add fewer than fa32_scale's). E = e^w is kept as E64 = E 2^64 = fma(t, s64, s64), a
 * normal float down to w = -112 (n = -162), so that a quotient or product with E rounds once,
 * into the subnormal range where the result lies there. */
#define FA32_MAGIC64 0x1.80017ep23f
typedef struct { float t, s64; } fa32_lean_t;

/* m 2^n from s64 = 2^(n+64): one rounding (the last multiply), into the subnormal range too */
FA_INLINE float fa32_scale_s(float m, float s64) { return (m * s64) * 0x1p-64f; }

/* -min(|x|, -lo) for lo < 0 in two integer operations (or, unsigned min): the bits of negative
 * floats order like their magnitudes. fa32_max(-|x|, lo) compiled to five operations
 * with k-mask traffic on AVX-512 (NaN-exact select fused with the loop's NaN test) and cost
 * sigmoid ~20% of its speed. A NaN x gives lo (the loop returns the NaN anyway). */
FA_INLINE float fa32_negabs_clamp(float x, float lo)
{
    uint32_t b = fa32_to_bits(x) | 0x80000000u, l = fa32_to_bits(lo);
    return fa32_from_bits(b < l ? b : l);
}
/* e^(w + w_lo) = (1 + t) 2^n for w in [FA32_EXP_XMIN, 0]; w_lo as in fa32_exp_core_ (0.0f when
 * there is none: it folds away) */
FA_INLINE fa32_lean_t fa32_exp_lean(float w, float w_lo)
{
    fa32_lean_t L;
    float tm = fa32_fma(w, FA32_LOG2E, FA32_MAGIC64);
    float n = tm - FA32_MAGIC64;
    L.t = fa32_expm1_fast(n, w, w_lo);
    L.s64 = fa32_from_bits(fa32_to_bits(tm) << 23);
    return L;
}
/* The same e^w (w in [FA32_EXP_XMIN, 0], no low part) with the polynomial by Estrin: r^2 and
 * two linear terms in parallel, then three FMAs, where Horner chains five after r; same op
 * count, other roundings (t differs from fa32_exp_lean's in the last bit at some inputs). The
 * loops of silu and silu' are bound by how long each vector's dependency chain is (the
 * scheduler holds only so many waiting ops): silu's forward ran 4.13 -> 4.41 Gelem/s (1M, one
 * Zen 5 core) with this alone. */
FA_INLINE fa32_lean_t fa32_exp_lean_est(float w)
{
    fa32_lean_t L;
    float tm = fa32_fma(w, FA32_LOG2E, FA32_MAGIC64);
    float n = tm - FA32_MAGIC64;
    float r = fa32_fma(n, -FA32_LN2_LO, fa32_fma(n, -FA32_LN2_HI, w));
    float r2 = r * r;
    float a = fa32_fma(FA32_EXPF_P1, r, FA32_EXPF_P0);
    float b = fa32_fma(FA32_EXPF_P3, r, FA32_EXPF_P2);
    float P = fa32_fma(r2, fa32_fma(FA32_EXPF_P4, r2, b), a);
    L.t = fa32_fma(r2, P, r);
    L.s64 = fa32_from_bits(fa32_to_bits(tm) << 23);
    return L;
}
/* The same for w + w_lo with w_lo added to r by one addition: its rounding (<= 2^-26, |r| being
 * below 0.35) costs e^(w + w_lo) up to 2^-26 relative, a quarter of a float32 ulp: a backward's
 * budget, not a forward's (fa32_exp_lean keeps r + w_lo exact, five operations more). */
FA_INLINE fa32_lean_t fa32_exp_lean_add(float w, float w_lo)
{
    fa32_lean_t L;
    float tm = fa32_fma(w, FA32_LOG2E, FA32_MAGIC64);
    float n = tm - FA32_MAGIC64;
    float r = fa32_fma(n, -FA32_LN2_LO, fa32_fma(n, -FA32_LN2_HI, w)) + w_lo;
    L.t = fa32_fma(r * r, fa32_expm1_fast_poly(r), r);
    L.s64 = fa32_from_bits(fa32_to_bits(tm) << 23);
    return L;
}
/* The accurate level's lean exp: e^(w + w_lo) = (1 + t + t_lo) 2^n for w in [FA32_EXP_XZERO,
 * 0], to ~2^-29 relative: r = w - n ln2 as r + r_lo (r_lo, the rounding of n LO's subtraction,
 * plus w_lo, |w_lo| <= 2^-17 (0.0f when there is none: it folds away), in as r_lo (1 + r)), the
 * degree-7 polynomial by Estrin, t = r + q rounded once and its residual t_lo exact
 * (Fast2Sum: |q| < |r|/2). */
typedef struct { float t, t_lo, s64; } fa32_lean_acc_t;
FA_INLINE fa32_lean_acc_t fa32_exp_lean_acc(float w, float w_lo)
{
    fa32_lean_acc_t L;
    float tm = fa32_fma(w, FA32_LOG2E, FA32_MAGIC64);
    float n = tm - FA32_MAGIC64;
    float r1 = fa32_fma(n, -FA32_LN2_HI, w);              /* exact */
    float nlo = n * FA32_LN2_LO;
    float r = r1 - nlo;
    float r_lo = (r1 - r) - nlo;
    if (!FA32_IS_ZERO(w_lo))
        r_lo += w_lo;
    float r2 = r * r, r4 = r2 * r2;
    float P = fa32_fma(r4, fa32_fma(FA32_EXPA_P5, r, FA32_EXPA_P4),
                       fa32_fma(r2, fa32_fma(FA32_EXPA_P3, r, FA32_EXPA_P2),
                                fa32_fma(FA32_EXPA_P1, r, FA32_EXPA_P0)));
    float q = fa32_fma(r2, P, fa32_fma(r_lo, r, r_lo));
    L.t = r + q;
    L.t_lo = q - (L.t - r);
    L.s64 = fa32_from_bits(fa32_to_bits(tm) << 23);
    return L;
}
/* f = sigmoid(w) = E/(1 + E) for w <= 0 (f <= 1/2), to ~E's own error plus the last rounding.
 * f0 = E64/(2^64 + E64) is E/d with d = 1 + E rounded (the scaling cancels, and the division
 * rounds once, subnormal f included). The exact remainder against the UNROUNDED 1 + E needs no
 * low part of d: E - f0 (1 + E) = (E - f0) - f0 E, where E - f0 is exact (Sterbenz: f0 is in
 * [E/2, E]), so one FMA gives it to one rounding (in units 2^64: E64 - f0 2^64 exact too).
 * f = f0 + rem/(1 + E), 1/(1 + E) = 1 - f0 to ~2^-24 (all the correction needs).
 * Measured (sigmoid over all 2^32 inputs): 1.50 ulp; without the correction 2.34 (sampled).
 * It replaced d + d_lo by Fast2Sum and a quadratic 1/d (5 FMAs -> 3, 2 additions fewer). */
FA_INLINE float fa32_sig_lean(fa32_lean_t L)
{
    float E64 = fa32_fma(L.t, L.s64, L.s64);
    float f0 = E64 / (0x1p64f + E64);
    float rem = fa32_fma(-f0, E64, fa32_fma(f0, -0x1p64f, E64));   /* 2^64 (E - f0 (1 + E)) */
    return fa32_fma(rem, fa32_fma(f0, -0x1p-64f, 0x1p-64f), f0);    /* (1 - f0) 2^-64 */
}
/* -1/d for d in [1, 2] to 5.9% (linear minimax for relative error, equioscillating at 1, 3/2
 * and 2: 1/d ~ 24/17 - 8/17 d): enough for a remainder correction of ~1 ulp (it adds < 0.06
 * ulp). Negative so that callers need no negation (see silu_fwd32). */
#define FA32_NRL_A 0x1.e1e1e2p-2f
#define FA32_NRL_B -0x1.696968p+0f
FA_INLINE float fa32_neg_recip_lin(float d) { return fa32_fma(d, FA32_NRL_A, FA32_NRL_B); }

/* The fast backwards' sigmoid (silu', softplus'): f = sigmoid(w) = E/(1 + E), w + w_lo <= 0
 * (w = -min(|v|, 132.5): FA32_EXP_XZERO, below which E and f are exactly 0), kept as f0 =
 * E/(1 + E) rounded and the exact remainder rem = E - f0 (1 + E) (Sterbenz, as in
 * fa32_sig_lean), so that f = f0 + rem c0 to E's own error, c0 = 1 - f0 ~ 1/(1 + E) (1 + E is
 * rounded, but only f0 uses it). E = 2^n (1 + t) rounded once where the argument v (on the side
 * whose result is f: v < 0) is above ln FLT_MIN, and 2^(n+64) (1 + t) in the deep tail below
 * it, where f is subnormal: there a product with f rounds once, into the subnormal range, if
 * the caller multiplies grad_output by 2^-64 first (fa32_grad_post), and g f'(x) stays
 * accurate where f'(x) alone would be subnormal (loss scaling). Only the deep tail is scaled,
 * so no grad_output can overflow (f 2^64 < 2^-62 there) or lose bits (g 2^-64 is exact for
 * |g| >= 2^-62, and below that g f is far below FLT_MIN in the deep tail), with no test of |g|
 * (the prescaling this replaced scaled every x < 0, by 2^-64 on g or on the result as |g| >= 1
 * or not). Elsewhere 2^n = 2^(n+64) 2^-64: exact for n >= -126, and beyond that (v > 87.3, the
 * other side) a subnormal or zero f that 1 - f ignores. The scaling is chosen by a float
 * compare and a masked multiply: an integer compare and a masked add on the bits cost
 * softplus' 17% (4.45 -> 3.7 Gelem/s, one Zen 5 core). */
typedef struct { float E, E_lo, f0, c0, rem; } fa32_sigd_t;
/* the same from t and a scale s of the caller's choosing (sigmoid': fa32_deep's) */
FA_INLINE fa32_sigd_t fa32_sig_scaled(float t, float s)
{
    fa32_sigd_t S;
    S.E = fa32_fma(t, s, s);
    /* E's rounding, to 2^-24 of itself (s - E is exact, Sterbenz: E in [0.7 s, 1.42 s]); read
     * by silu' alone, gcc drops it elsewhere */
    S.E_lo = fa32_fma(t, s, s - S.E);
    S.f0 = S.E / (1.0f + S.E);
    S.c0 = 1.0f - S.f0;
    S.rem = fa32_fma(-S.f0, S.E, S.E - S.f0);
    return S;
}
FA_INLINE fa32_sigd_t fa32_sig_deep_from(fa32_lean_t L, float v)
{
    return fa32_sig_scaled(L.t, v < FA32_LN_FLT_MIN ? L.s64 : L.s64 * 0x1p-64f);
}
FA_INLINE fa32_sigd_t fa32_sig_deep(float w, float w_lo, float v)
{
    fa32_lean_t L = FA32_IS_ZERO(w_lo) ? fa32_exp_lean(w, 0.0f) : fa32_exp_lean_add(w, w_lo);
    return fa32_sig_deep_from(L, v);
}
/* grad_output for a product with fa32_sig_deep's f (scaled by 2^64 where v < ln FLT_MIN) */
FA_INLINE float fa32_grad_post(float g, float v)
{
    return v < FA32_LN_FLT_MIN ? g * 0x1p-64f : g;
}
/* The scales for a backward whose f'(x) is m 2^n (elu', selu', celu', sigmoid'), from s64 =
 * 2^(n+64) (normal for n >= -190: arguments down to FA32_EXP_XZERO, +0 below): in the deep
 * tail, n <= -126 where m 2^n may be subnormal (m = 1 + t is down to 0.7), s = s64 and post =
 * 2^-64; elsewhere s = 2^n (exact) and post = 1, and m s >= 0.7 2^-125 is normal (for a factor
 * in m below 1, elu's alpha < 1, a few binades above FLT_MIN still round into the subnormals).
 * (post g) (m s) keeps g f'(x)'s digits where f'(x) is below FLT_MIN but g f'(x) is not (loss
 * scaling; there m s64 <= 2^-62 m, so nothing overflows), and gives the bits of
 * g ((m s64) 2^-64) elsewhere and wherever g = 1. Both from s64's bits by integer operations:
 * the same choice by float compares on x and masked multiplies cost elu' 30% (gcc combined
 * them with the NaN-exact selects into k-mask logic); this costs it 5-14%. */
typedef struct { float s, post; } fa32_deep_t;
FA_INLINE fa32_deep_t fa32_deep(float s64)
{
    fa32_deep_t D;
    uint32_t b = fa32_to_bits(s64);
    uint32_t d = b < (66u << 23) ? (64u << 23) : 0u;      /* exponent field <= 65: n <= -126 */
    D.s = fa32_from_bits(b - ((64u << 23) - d));
    D.post = fa32_from_bits(0x3f800000u - d);
    return D;
}

/* The accurate level's sigmoid(w) = E/(1 + E) for w <= 0 from the lean exp's t and a scale s
 * (2^n, or 2^(n+64) in a deep tail), E = (1 + t) s: E + E_lo (the residual of fma(t, s, s) is
 * exact: s - E is, by Sterbenz), F = f0 + F_lo with the exact remainder E - f0 (1 + E) =
 * (E - f0) - f0 E (as fa32_sig_lean) and 1/(1 + E) = 1 - F ~ c0 = 1 - f0, and 1 - F = c0 + c_lo
 * (c0's residual exact: c0 is in [1/2, 1]). The pairs are as good as t + t_lo (the fast lean
 * exp's t alone: ~0.4 2^-24 relative, its polynomial's and r's errors; fa32_exp_lean_acc's:
 * ~2^-28) while E_lo is a normal float: callers scale E by 2^64 well before ln FLT_MIN
 * (below x = -64). */
typedef struct { float f0, F_lo, c0, c_lo; } fa32_sigp_t;
FA_INLINE fa32_sigp_t fa32_sig_pair(float t, float t_lo, float s)
{
    fa32_sigp_t F;
    float E = fa32_fma(t, s, s);
    float E_lo = fa32_fma(t, s, s - E);
    if (!FA32_IS_ZERO(t_lo))
        E_lo = fa32_fma(s, t_lo, E_lo);
    F.f0 = E / (1.0f + E);
    F.c0 = 1.0f - F.f0;
    float rem = fa32_fma(-F.f0, E, E - F.f0);
    F.F_lo = fa32_fma(E_lo, F.c0, rem) * F.c0;
    F.c_lo = ((1.0f - F.c0) - F.f0) - F.F_lo;
    return F;
}

/* sigmoid: fast, f = sigmoid(-|x|) (fa32_sig_lean), and 1 - f for x >= 0: f's error halves
 * there (f <= 1/2 sits a binade or more below the result) and 1 - f is exact for f >= 1/4. */
FA_INLINE float sigmoid_fwd32(float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc) {
        /* the exp by Estrin (fa32_exp_lean_est): a shorter chain, as for silu. f or 1 - f by
         * arithmetic on sg = copysign(1, x): fma(-sg, f, (1 + sg)/2) is f exactly for x < 0
         * (and -0) and 1 - f rounded once for x >= 0, the bits of `x < 0 ? f : 1 - f` (all
         * 2^32 inputs compared), which gcc merged with the loop's NaN test into four compares,
         * two ands and three blends on AVX2: 32 -> 28 vector instructions per 8 lanes, 2.23
         * -> 2.53 Gelem/s (C harness, 1M uniform, one Zen 5 core); AVX-512 27 -> 26, +0-3%.
         * (silu's max(x, 0) the same way: +0%.) */
        float f = fa32_sig_lean(fa32_exp_lean_est(fa32_negabs_clamp(x, FA32_EXP_XMIN)));
        float sg = fa32_from_bits((fa32_to_bits(x) & 0x80000000u) | 0x3f800000u);
        return fa32_fma(-sg, f, fa32_fma(sg, 0.5f, 0.5f));
    }
    /* Accurate, the same lean form with every rounding before the last one exact: the
     * numerator N 2^64 = fma(t, s64, s64) + N_lo (its residual exact: s64 - N64 is exact
     * by Sterbenz) + t_lo s64, d_lo takes N_lo too, and the quotient is corrected by its
     * exact remainder, then scaled by 2^-64 (one rounding, gradual underflow right). The exp
     * is fa32_exp_lean_acc (t + t_lo to ~2^-29, all this needs; the exp core's p + p_lo,
     * which it replaced, went unused): 1.82 -> 2.72 Gelem/s (1M, one Zen 5 core, AVX-512;
     * AVX2 1.05 -> 1.2), 0.57 -> 0.63 ulp over all 2^32 inputs (x = -17.66). */
    fa32_lean_acc_t X = fa32_exp_lean_acc(fa32_negabs_clamp(x, FA32_EXP_XMIN), 0.0f);
    float s64 = X.s64;
    float N64 = fa32_fma(X.t, s64, s64);
    float N_lo = fa32_fma(X.t, s64, s64 - N64) + X.t_lo * s64;
    float E = N64 * 0x1p-64f;
    float d = 1.0f + E;
    float d_lo = ((1.0f - d) + E) + N_lo * 0x1p-64f;
    float Nn = x < 0.0f ? N64 : 0x1p64f, Nl = x < 0.0f ? N_lo : 0.0f;
    float y0 = Nn / d;
    float rem = fa32_fma(-y0, d_lo, fa32_fma(-y0, d, Nn)) + Nl;
    return fa32_fma(rem, fa32_recip12(d), y0) * 0x1p-64f;
}
/* sigmoid' = f (1 - f) with f = sigmoid(-|x|) for either sign (the function is even) */
FA_INLINE float sigmoid_bwd32(float g, float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc) {
        /* f - f^2 in one FMA: no cancellation (f <= 1/2). f = E/(1 + E) from the remainder
         * form (fa32_sig_scaled), with E (and so f) scaled by 2^64 and g by 2^-64 in the deep tail
         * (fa32_deep; there f 2^64 < 2^-62, so f^2 vanishes beside it as it does unscaled),
         * so g f'(x) keeps its digits where f is subnormal. */
        fa32_lean_t L = fa32_exp_lean(fa32_negabs_clamp(x, FA32_EXP_XZERO), 0.0f);
        fa32_deep_t D = fa32_deep(L.s64);
        fa32_sigd_t S = fa32_sig_scaled(L.t, D.s);
        float f = fa32_fma(S.rem, S.c0, S.f0);
        return (g * D.post) * fa32_fma(-f, f, f);
    }
    /* Accurate: F (1 - F) with both as pairs (fa32_sig_pair on fa32_exp_lean_acc), a
     * two-product and its low parts, and g folded in with one rounding; E scaled by 2^64 and
     * g by 2^-64 beyond |x| = 64 (E_lo stays normal; g 2^-64 is exact for |g| >= 2^-62, and
     * below that g f'(x) < 2^-148). It replaced E q^2 from the exp core's pairs and a
     * corrected 1/(1 + E): 1.63 -> 2.31 Gelem/s (1M, one Zen 5 core, AVX-512; AVX2 0.85 ->
     * 1.01), 0.57 -> 0.80 ulp over all 2^32 inputs (g = 1, x = 86.26). */
    float w = fa32_negabs_clamp(x, FA32_EXP_XZERO);
    fa32_lean_acc_t L = fa32_exp_lean_acc(w, 0.0f);
    int deep = w < -64.0f;
    fa32_sigp_t F = fa32_sig_pair(L.t, L.t_lo, deep ? L.s64 : L.s64 * 0x1p-64f);
    fa32_pair Q = fa32_two_prod(F.f0, F.c0);
    float lo = Q.lo + fa32_fma(F.f0, F.c_lo, F.F_lo * F.c0);
    float gp = deep ? g * 0x1p-64f : g;
    float r = fa32_fma(gp, Q.hi, gp * lo);
    return fa32_abs(g) <= 0x1.fffffep127f ? r : gp * Q.hi;  /* g = inf: inf * 0 in lo */
}
/* y (1 - y) = y - y^2 in one FMA (exact until the rounding, no cancellation near y = 1); the
 * addend is clamped so that y = +inf gives -inf, as y (1 - y) does, not inf - inf. */
FA_INLINE float sigmoid_bwo32(float g, float y, float p0, float p1, const int acc)
{
    (void)p0; (void)p1; (void)acc;
    return g * fa32_fma(-y, y, fa32_min(y, 0x1.fffffep127f));
}

/* silu(x) = x sigmoid(x) = max(x, 0) + w f with w = -|x|, f = sigmoid(w) = E/(1 + E), E = e^w:
 * x f for x < 0 and x - x f for x >= 0 (f <= 1/2, so x f is at most half the result there and
 * its error counts at most once). Fast: w f = M/(1 + E) with M = w E 2^64 = fma(t, w s64, w s64)
 * rounded once, a normal float down to w = -112 (near x = -90 E is subnormal but x E is not);
 * one division, corrected by its exact remainder M - q0 (1 + E) = (M - q0) - q0 E (M - q0 exact:
 * q0 is in [M/2, M]), as fa32_sig_lean does, times -1/d to 6% (fa32_neg_recip_lin with 2^-64
 * folded into its coefficients); the last FMA adds max(x, 0) to q0 2^-64, rounding once (into
 * the subnormal range where the result lies there), and the correction last. No select on the
 * sign: x = +inf gives inf + tiny (the clamp makes w = -112), x = -inf gives -0, x = -0 gives
 * -0. Over all 2^32 inputs 1.848 ulp (x = -5.938, the x < 0 side as before; x >= 0: 1.486 at
 * 0.655, was 0.94: q0 is rounded before x is added), and 4.12 -> 4.80 Gelem/s (1M, one Zen 5
 * core, AVX-512, bench/vs_peers.py): the old form's selects for N and for the 2^-64 scaling
 * and its +inf guard sat on a dependency chain ~70 cycles long; this loop has 30 vector
 * instructions per 16 lanes where the old had 34 (register moves not counted). */
FA_INLINE float silu_fwd32(float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc) {
        float w = fa32_negabs_clamp(x, FA32_EXP_XMIN);      /* -|x| clamped at -112 */
        fa32_lean_t L = fa32_exp_lean_est(w);
        float s = L.s64 * 0x1p-64f;                          /* 2^n, 0 below n = -150 */
        float E = fa32_fma(L.t, s, s);
        float ws = w * L.s64;
        float M = fa32_fma(L.t, ws, ws);
        float d = 1.0f + E;
        float q0 = M / d;
        float rem = fa32_fma(q0, E, q0 - M);                 /* 2^64 (q0 (1 + E) - w E) */
        float nr = fa32_fma(d, FA32_NRL_A * 0x1p-64f, FA32_NRL_B * 0x1p-64f);
        return fa32_fma(rem, nr, fa32_fma(q0, 0x1p-64f, fa32_max(x, 0.0f)));
    }
    /* Accurate: w F (x < 0, w = max(x, -112): below it the result rounds to -0 either way) or
     * x (1 - F), F and 1 - F as pairs (fa32_sig_pair), rounded once by one FMA; E scaled by
     * 2^64 below x = -64 (E_lo stays normal) and the product by 2^-64 last (exact where the
     * result is normal). It replaced the exp core's pairs, a corrected division for
     * 1/(1 + E) and two-products: 1.66 -> 2.4 Gelem/s (1M, one Zen 5 core, AVX-512; AVX2
     * 0.85 -> 1.0), 0.59 -> 0.67 ulp over all 2^32 inputs (x = -87.68). */
    float w = fa32_negabs_clamp(x, FA32_EXP_XMIN);
    fa32_lean_acc_t L = fa32_exp_lean_acc(w, 0.0f);
    float s = x < -64.0f ? L.s64 : L.s64 * 0x1p-64f;
    fa32_sigp_t F = fa32_sig_pair(L.t, L.t_lo, s);
    float neg = fa32_fma(w, F.f0, w * F.F_lo) * (x < -64.0f ? 0x1p-64f : 1.0f);
    float pos = fa32_fma(x, F.c0, x * F.c_lo);
    pos = x < 0x1p100f ? pos : x;                          /* x = inf: inf * 0 */
    return x < 0.0f ? neg : pos;
}
/* silu' = sigmoid (1 + x (1 - sigmoid)): with f = sigmoid(-|x|), f' = a b with a = f, b =
 * 1 + x (1 - f) for x < 0 and a = 1 - f, b = 1 + x f for x >= 0. */
FA_INLINE float silu_bwd32(float g, float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc) {
        /* Fast: b = (1 + x) - x f for x < 0 (1 + x exact), 1 + x f for x >= 0: one FMA
         * fma(-w, f, u), w = -|x|, u = 1 + x or 1, with no cancellation before the root (the
         * old 1 + x (1 - f) is ~0.44 at x = -0.83 and multiplied the rounding of 1 - f by
         * |x|/b ~ 1.9). b takes f0 = E/(1 + E) rounded, not the corrected f: w f is small
         * beside b wherever f0's error could show (near the root it is counted in units of
         * 1/8), and b is then ready while the remainder is formed. f = f0 + rem c0 (E's
         * rounding in rem too, below) is rounded once, and a b too: fma(f, b, 0) (x < 0),
         * fma(-f, b, b) (x >= 0), the sign of f and the addend picked by the sign bit of x as
         * an integer mask (-0 takes x < 0's side, which agrees there; the same selects on
         * x < 0 ran 4% slower); then g, grad_output, multiplies it. f's sign is flipped by x's
         * own sign bit (one vpternlogd), not by the mask m: gcc inverted m for it in an
         * operation of its own (37 -> 36 vector instructions per 16 lanes, +2-3%, the same
         * bits). The deep tail through fa32_sig_deep_from and fa32_grad_post; x = +-inf:
         * w = -132.5, E = 0. With the exp by Estrin (fa32_exp_lean_est) this was 37 AVX-512
         * vector instructions per 16 lanes (was 38, register moves not counted) on a shorter
         * dependency chain: 3.43 -> 4.05 Gelem/s (1M, one Zen 5 core, bench/vs_peers.py).
         * The price is f's rounding, which the old form kept out (fma(f0, b, fc b), 2.391
         * ulp): over all 2^32 inputs 3.04 ulp at g = 1 (x = -6.5707), with a random g in
         * [-2, 2] <= 3.70 (every 7th input) and 3.99 over all inputs, one draw each (before
         * E_lo, below).
         * g multiplies the rounded v = a b last, so v's error counts up to twice for a g
         * that puts g v high in its binade where v lies low in its own: before session 8 that
         * reached 4.28 ulp (x = -0.4640905, g = -1.8112), over the bound of 4. E's rounding
         * (E = fma(t, s, s)) is now carried into f's correction: F = f0 + (rem + E_lo c0) c0,
         * E_lo from fa32_sig_scaled.
         * The rounded v is then within 3.12 x 2^-24 of f'(x) relative (C harness, every 3rd
         * input; was 3.71), so g v within 3.62 ulp for every g; over all 2^32 inputs 2.39 ulp
         * at g = 1 (was 3.04) and 3.42 with a random g. Three operations beside the division,
         * off f's chain: 3.86 -> 3.52 Gelem/s (1M, one Zen 5 core, bench/vs_peers.py).
         * Folding g into v's rounding instead (its exact residual) held the bound too but ran
         * 3.18. */
        float w = fa32_negabs_clamp(x, FA32_EXP_XZERO);
        fa32_sigd_t S = fa32_sig_deep_from(fa32_exp_lean_est(w), x);
        float f = fa32_fma(fa32_fma(S.E_lo, S.c0, S.rem), S.c0, S.f0);
        uint32_t m = (uint32_t)((int32_t)fa32_to_bits(x) >> 31);
        float b = fa32_fma(-w, S.f0, 1.0f + fa32_from_bits(fa32_to_bits(w) & m));
        float A = fa32_from_bits(fa32_to_bits(f) ^ (~fa32_to_bits(x) & 0x80000000u));
        float B = fa32_from_bits(fa32_to_bits(b) & ~m);
        return fa32_grad_post(g, x) * fa32_fma(A, b, B);
    }
    /* Accurate: the fast level's form, every rounding before the last carried: a b as an
     * unevaluated hi + lo, multiplied by g with one rounding (a random g would double a
     * rounded f''s error where g f' falls low in its binade). E = e^w from the same lean exp
     * (its t: relative error ~0.4 2^-24 with the polynomial's and r's), as E + E_lo (the
     * residual of fma(t, s, s) is exact: s - E is, by Sterbenz); F = E/(1 + E) = f0 + F_lo
     * with the exact remainder rem = E - f0 (1 + E) = (E - f0) - f0 E (as fa32_sig_lean) and
     * 1/(1 + E) = 1 - F ~ c0 = 1 - f0; b = u + |x| F, u = 1 + x (x < 0) or 1, summed exactly
     * (2Sum: near the root of silu' at -1.2785 either may be the larger; u = 1 + x is exact
     * for x <= -1 and takes u_lo above); a = F or 1 - F = c0 + c_lo (c0's residual exact: c0 is
     * in [1/2, 1]). E (and so F) is scaled by 2^64 and g by 2^-64 below x = -64, not at ln
     * FLT_MIN as at the fast level: E_lo, 2^-24 below E, must stay a normal float (scaled at
     * ln FLT_MIN: 1.42 ulp at x = -86.95, sampled); there g 2^-64 is exact for |g| >= 2^-62,
     * and below that g f'(x) < 2^-148 anyway. x = +-inf as at the fast level. It replaced the
     * sigmoid parts of the exp core (t and p as pairs), a corrected division for 1/(1 + E) and
     * the products by two-products: 1.14 -> 1.83 Gelem/s (1M, one Zen 5 core, AVX-512; AVX2
     * 0.56 -> 0.88), and 1.36 -> 1.32 ulp over all 2^32 inputs (x = -90.45). */
    float w = fa32_negabs_clamp(x, FA32_EXP_XZERO);
    fa32_lean_t L = fa32_exp_lean_est(w);
    float s = x < -64.0f ? L.s64 : L.s64 * 0x1p-64f;
    fa32_sigp_t F = fa32_sig_pair(L.t, 0.0f, s);
    float f0 = F.f0, F_lo = F.F_lo;
    uint32_t m = (uint32_t)((int32_t)fa32_to_bits(x) >> 31);    /* x < 0 (and -0) */
    float wm = fa32_from_bits(fa32_to_bits(w) & m);
    float u = 1.0f + wm;
    float u_lo = (1.0f - u) + wm;
    fa32_pair P = fa32_two_prod(-w, f0);
    float P_lo = fa32_fma(-w, F_lo, P.lo);
    float b = u + P.hi, bv = b - u;
    float b_lo = ((u - (b - bv)) + (P.hi - bv)) + (u_lo + P_lo);
    float A = fa32_from_bits((fa32_to_bits(f0) & m) | (fa32_to_bits(F.c0) & ~m));
    float A_lo = fa32_from_bits((fa32_to_bits(F_lo) & m) | (fa32_to_bits(F.c_lo) & ~m));
    fa32_pair Q = fa32_two_prod(A, b);
    float lo = Q.lo + fa32_fma(A, b_lo, A_lo * b);
    float gp = x < -64.0f ? g * 0x1p-64f : g;
    float r = fa32_fma(gp, Q.hi, gp * lo);
    return fa32_abs(g) <= 0x1.fffffep127f ? r : gp * Q.hi;  /* g = inf: inf * 0 in lo */
}

/* elu: x > 0 ? x : alpha * expm1(x), expm1 from the shared core (hi + lo at acc = 1). */
FA_INLINE float elu_fwd32(float x, float alpha, float p1, const int acc)
{
    (void)p1;
    /* x >= 0 returns x (+-0 too: a * expm1(+-0) is +-0, as the double formula keeps it) */
    float neg = fa32_a_expm1_w(alpha, 0.0f, fa32_negabs_clamp(x, -88.0f), 0.0f, acc);
    return x >= 0.0f ? x : neg;
}
/* elu' = alpha e^x for x <= 0: (alpha p) 2^n, with 2^n and g scaled in the deep tail
 * (fa32_deep), so that g f'(x) keeps its digits where e^x alone is below
 * FLT_MIN; x is clamped at FA32_EXP_XZERO, where e^x 2^64 becomes 0. Fast: the lean exp (the
 * same t and 2^(n+64) as fa32_exp_core's, so the same bits) with its two-operation clamp; the
 * x > 0 lanes, where it computes e^-x, are discarded. */
FA_INLINE float elu_bwd32(float g, float x, float alpha, float p1, const int acc)
{
    (void)p1;
    if (!acc) {
        fa32_lean_t L = fa32_exp_lean(fa32_negabs_clamp(x, FA32_EXP_XZERO), 0.0f);
        fa32_deep_t D = fa32_deep(L.s64);
        return x > 0.0f ? g : (g * D.post) * (fa32_fma(alpha, L.t, alpha) * D.s);
    }
    /* -min(|x|, 132.5) by fa32_negabs_clamp: x > 0 lanes are discarded, and the float clamps
     * cost a k-mask chain (see fa32_a_expm1_w) */
    fa32_exp_t E = fa32_exp_core_(fa32_negabs_clamp(x, FA32_EXP_XZERO), 0.0f, 1);
    float m = fa32_fma(alpha, E.p, alpha * E.p_lo);
    fa32_deep_t D = fa32_deep(fa32_pow2_64(E));
    return x > 0.0f ? g : (g * D.post) * (m * D.s);
}
FA_INLINE float elu_bwo32(float g, float y, float alpha, float p1, const int acc)
{
    (void)p1; (void)acc;
    return y > 0.0f ? g : g * (y + alpha);
}

/* SELU's constants as hi + lo float32 pairs (torch's double values) */
#define FA32_SELU_S 0x1.0cfabep+0f
#define FA32_SELU_S_LO -0x1.2addda0p-25f
#define FA32_SELU_SA 0x1.c212ccp+0f
#define FA32_SELU_SA_LO 0x1.903c0cp-26f
/* SCALE * v rounded once (v = +-inf: S*v, as fma(S, v, S_LO*v) would be inf - inf) */
FA_INLINE float fa32_selu_s(float v)
{
    /* below 2^-60 scaled up by 2^64 first, so S_LO * v does not lose bits to underflow */
    int tiny = fa32_abs(v) < 0x1p-60f;
    float vv = tiny ? v * 0x1p64f : v;
    float r = fa32_fma(FA32_SELU_S, vv, FA32_SELU_S_LO * vv);
    r = tiny ? r * 0x1p-64f : r;
    return fa32_abs(v) <= 0x1.fffffep127f ? r : FA32_SELU_S * v;
}
FA_INLINE float selu_fwd32(float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    float neg = fa32_a_expm1_w(FA32_SELU_SA, FA32_SELU_SA_LO, fa32_negabs_clamp(x, -88.0f), 0.0f,
                               acc);
    neg = x == 0.0f ? x : neg;            /* +-0 returns x: a * expm1(+-0) is +-0 */
    return x > 0.0f ? fa32_selu_s(x) : neg;
}
FA_INLINE float selu_bwd32(float g, float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc) {
        /* Fast: the float32 SCALE and SCALE*ALPHA without their low parts (relative 3.3e-8 and
         * 1.3e-8: under 0.6 ulp on top of the roundings; the bound is 4), and the lean exp as
         * in elu_bwd32 */
        fa32_lean_t L = fa32_exp_lean(fa32_negabs_clamp(x, FA32_EXP_XZERO), 0.0f);
        float m = fa32_fma(FA32_SELU_SA, L.t, FA32_SELU_SA);
        fa32_deep_t D = fa32_deep(L.s64);
        return x > 0.0f ? g * FA32_SELU_S : (g * D.post) * (m * D.s);
    }
    fa32_exp_t E = fa32_exp_core_(fa32_negabs_clamp(x, FA32_EXP_XZERO), 0.0f, 1);  /* as elu' */
    float m = fa32_fma(FA32_SELU_SA, E.p, fa32_fma(FA32_SELU_SA, E.p_lo, FA32_SELU_SA_LO * E.p));
    fa32_deep_t D = fa32_deep(fa32_pow2_64(E));
    float gs = fa32_selu_s(g);
    return x > 0.0f ? gs : (g * D.post) * (m * D.s);
}
/* y + SCALE*ALPHA: y + SA is exact near y = -SA (Sterbenz) where it cancels, and SA's low part
 * is added after it */
FA_INLINE float selu_bwo32(float g, float y, float p0, float p1, const int acc)
{
    (void)p0; (void)p1; (void)acc;
    fa32_pair S = fa32_fast2sum(FA32_SELU_SA, y);
    float v = S.hi + (S.lo + FA32_SELU_SA_LO);
    v = fa32_abs(y) <= 0x1.fffffep127f ? v : y;            /* y = -inf: inf - inf in S.lo */
    float gs = fa32_selu_s(g);
    return y > 0.0f ? gs : g * v;
}

/* celu: z = x / alpha as z + z_lo (z = x * (1/alpha), the remainder exact by FMA): the
 * rounding of z alone would cost up to 1 ulp; z_lo is folded into the exp core's argument.
 * For x > 0 the callers return x (or g) whatever the exp gives, so z is not clamped at 0: that
 * select made gcc duplicate the rest of the kernel on both sides of it (celu' ran at half elu's
 * speed). */
FA_INLINE fa32_pair fa32_celu_z(float x, float alpha, const float lo)
{
    fa32_pair Z;
    float inv = 1.0f / alpha;                  /* loop-invariant for scalar alpha: hoisted */
    Z.hi = fa32_max(x * inv, lo);
    Z.lo = fa32_fma(-Z.hi, alpha, x) * inv;
    /* clamped (the remainder means nothing) or x > 0 (discarded) */
    Z.lo = Z.hi > lo && x <= 0.0f ? Z.lo : 0.0f;
    return Z;
}
FA_INLINE float celu_fwd32(float x, float alpha, float p1, const int acc)
{
    (void)p1;
    /* z = x/alpha as z + z_lo as fa32_celu_z computes it, its clamps done on the bits (as in
     * fa32_negabs_clamp; float clamps fused with the loop's NaN test into k-mask chains, 11
     * compares per vector): zh = max(z, -88) is an unsigned min (z > 0 keeps its smaller bits),
     * and w = min(zh, 0) a signed one (z > 0 -> +0: x > 0, whose lanes are discarded). At -88, 2^n = +0 makes the result -alpha whatever z_lo is. For |z| < 2^-26,
     * celu(x) = x (1 + z/2 + ...) rounds to x itself, and x is returned: this covers x = +-0,
     * and z that is subnormal or 0 though x is not (alpha = 1e30, x = -1e-18: the result was
     * 0, 1.7e7 ulp, before). alpha > 0 (_table.py rejects the rest). */
    float inv = 1.0f / alpha;                  /* loop-invariant for scalar alpha: hoisted */
    uint32_t zb = fa32_to_bits(x * inv), lb = fa32_to_bits(-88.0f);
    float zh = fa32_from_bits(zb < lb ? zb : lb);
    float zl = zh > -88.0f ? fa32_fma(-zh, alpha, x) * inv : 0.0f;
    int32_t hb = (int32_t)fa32_to_bits(zh);
    float w = fa32_from_bits((uint32_t)(hb < 0 ? hb : 0));
    float neg = fa32_a_expm1_w(alpha, 0.0f, w, zl, acc);
    return (x > 0.0f) | (fa32_abs(zh) < 0x1p-26f) ? x : neg;
}
FA_INLINE float celu_bwd32(float g, float x, float alpha, float p1, const int acc)
{
    (void)p1;
    /* e^(x/alpha) down to FA32_EXP_XZERO, 2^n and g scaled in the deep tail as in elu' */
    fa32_pair Z = fa32_celu_z(x, alpha, FA32_EXP_XZERO);
    if (!acc) {
        /* the lean exp with z's low part added once (2^-26 relative: a backward's budget);
         * (1 + t) s in one FMA, not 1 + t rounded first. x > 0 lanes are discarded. */
        fa32_lean_t L = fa32_exp_lean_add(fa32_negabs_clamp(Z.hi, FA32_EXP_XZERO), Z.lo);
        fa32_deep_t D = fa32_deep(L.s64);
        return x > 0.0f ? g : (g * D.post) * fa32_fma(L.t, D.s, D.s);
    }
    fa32_exp_t E = fa32_exp_core_(fa32_min(Z.hi, FA32_EXP_XMAX), Z.lo, acc);
    fa32_deep_t D = fa32_deep(fa32_pow2_64(E));
    return x > 0.0f ? g : (g * D.post) * ((E.p + E.p_lo) * D.s);
}
/* y/alpha + 1 = (y + alpha)/alpha: y + alpha is exact where it cancels (y near -alpha, Sterbenz);
 * the quotient is corrected by its exact remainder */
FA_INLINE float celu_bwo32(float g, float y, float alpha, float p1, const int acc)
{
    (void)p1; (void)acc;
    float inv = 1.0f / alpha;
    float s = y + alpha;
    float s_lo = fa32_abs(y) <= fa32_abs(alpha) ? alpha - (s - y) : y - (s - alpha);
    float q0 = s * inv;
    float v = fa32_fma(fa32_fma(-q0, alpha, s) + s_lo, inv, q0);
    v = fa32_abs(q0) <= 0x1.fffffep127f ? v : q0;          /* q0 overflowed: inf - inf */
    return y > 0.0f ? g : g * v;
}

/* log1p(E) for E = (1 + t + t_lo) 2^n in [0, 1], as 2^n (hi + lo): 2 atanh(s) with
 * s = E/(2+E) = E w, w = 1/(2+E) = w0 + wf (one corrected division), so that
 *   log1p(E) = 2^n * 2 (1+t) w (1 + s^2 R(s^2)),
 * a product scaled last: for b < -87 E is subnormal but log1p(E)/beta need not be. */
FA_INLINE fa32_pair fa32_log1p_exp(fa32_exp_t E, float s64, const int acc)
{
    fa32_pair L;
    float Ev = fa32_scale_s(E.p, s64);
    float d = 2.0f + Ev;
    float d_lo = (2.0f - d) + Ev;                          /* Fast2Sum: 2 >= E */
    if (acc)
        d_lo += fa32_scale_s(E.p_lo, s64);
    float w0 = 1.0f / d;
    float wf = fa32_div_fix(w0, 1.0f, 0.0f, d, d_lo, w0);
    float sv = Ev * w0, u = sv * sv, R;
    if (!acc)
        R = fa32_fma(fa32_fma(fa32_fma(FA32_LOG1PF_R3, u, FA32_LOG1PF_R2), u, FA32_LOG1PF_R1), u,
                     FA32_LOG1PF_R0);
    else
        R = fa32_fma(fa32_fma(fa32_fma(fa32_fma(FA32_LOG1PA_R4, u, FA32_LOG1PA_R3), u,
                                       FA32_LOG1PA_R2), u, FA32_LOG1PA_R1), u, FA32_LOG1PA_R0);
    float uR = u * R;                                      /* <= 0.04 */
    if (!acc) {
        float w = w0 + wf;
        float M = fa32_fma(E.t, w, w);                     /* (1 + t) w */
        L.hi = 2.0f * M;
        L.lo = 2.0f * (M * uR);
    } else {
        fa32_pair P = fa32_two_prod(E.p, w0);              /* (p + p_lo)(w0 + wf) = P + c */
        float c = fa32_fma(E.p, wf, fa32_fma(E.p_lo, w0, P.lo));
        L.hi = 2.0f * P.hi;
        L.lo = 2.0f * fa32_fma(P.hi, uR, c);
    }
    return L;
}

/* softplus(x) = x where beta x > threshold (decided on the exact product b + b_lo), else
 * (max(b, 0) + log1p(e^-|b|)) / beta = max(x, 0) + log1p(E)/beta, E = e^-|b + b_lo|. */
FA_INLINE fa32_pair fa32_softplus_b(float x, float beta)
{
    fa32_pair B = fa32_two_prod(beta, x);
    B.lo = fa32_abs(B.hi) < 0x1p100f ? B.lo : 0.0f;
    return B;
}
/* The low part as the exp's argument correction: beyond |b| = 128 e^-|b| is below every result's
 * last bit, and lo (up to half an ulp of b, i.e. huge) must not reach the reduced argument. */
FA_INLINE float fa32_softplus_lo(fa32_pair B) { return fa32_abs(B.hi) < 128.0f ? B.lo : 0.0f; }
/* beta x > threshold on the exact product: (hi - t) + lo has the sign of hi + lo - t, since
 * hi - t is exact (Sterbenz) wherever lo could matter and a rounded sum keeps its sign. One
 * more case: a finite x whose product overflowed to -inf still beats threshold = -inf (NaN
 * above). (Selects and &, no ||: an || here stops gcc's if-conversion of the loop.) */
FA_INLINE int fa32_softplus_linear(fa32_pair B, float threshold, float x)
{
    float d = (B.hi - threshold) + B.lo;
    int overflowed = (B.hi == -__builtin_inff()) & (threshold == -__builtin_inff()) &
                     (fa32_abs(x) < __builtin_inff());
    return (overflowed ? 1.0f : d) > 0.0f;
}
FA_INLINE float softplus_fwd32(float x, float beta, float threshold, const int acc)
{
    fa32_pair B = fa32_softplus_b(x, beta);
    float xl = B.hi < 0.0f ? fa32_softplus_lo(B) : -fa32_softplus_lo(B);
    fa32_exp_t E;
    float s64;
    if (!acc) {
        /* the lean exp: its clamp and its 2^(n+64), the same t and s64 as fa32_exp_core's
         * (same bits), fewer operations */
        fa32_lean_t Ln = fa32_exp_lean(fa32_negabs_clamp(B.hi, FA32_EXP_XMIN), xl);
        E.t = Ln.t;
        E.p = 1.0f + Ln.t;
        E.n = E.tm = E.t_lo = E.p_lo = 0.0f;                 /* unused at acc = 0 */
        s64 = Ln.s64;
    } else {
        /* the accurate lean exp (t + t_lo to ~2^-28, its clamp two integer operations; a NaN
         * product is passed on below, as at the fast level); p + p_lo = 1 + t + t_lo by
         * Fast2Sum. It replaced the exp core (r and t as pairs, float clamps): 0.78 -> 0.98
         * Gelem/s (1M, one Zen 5 core, AVX-512, the fast level 1.02; AVX2 0.40 -> 0.45),
         * the same 0.753 ulp over all 2^32 inputs */
        fa32_lean_acc_t La = fa32_exp_lean_acc(fa32_negabs_clamp(B.hi, FA32_EXP_XMIN), xl);
        E.t = La.t;
        E.t_lo = La.t_lo;
        E.p = 1.0f + La.t;
        E.p_lo = ((1.0f - E.p) + La.t) + La.t_lo;
        E.n = E.tm = 0.0f;                                   /* unused */
        s64 = La.s64;
    }
    fa32_pair L = fa32_log1p_exp(E, s64, acc);
    /* log1p(E)/beta = 2^n (q0 + (L - q0 beta)/beta), the remainder exact */
    float inv = 1.0f / beta;
    float q0 = L.hi * inv;
    float rem = fa32_fma(-q0, beta, L.hi) + L.lo;
    float neg = fa32_scale_s(fa32_fma(rem, inv, q0), s64);
    /* x > 0: x + 2^n (q0 + rem/beta) rounded once: 2Sum of x and 2^n q0 (n >= -30 here, so
     * the scaling is exact); x + neg would round twice (2.05 ulp) */
    float a = fa32_scale_s(q0, s64), f = fa32_scale_s(rem * inv, s64);
    int xbig = fa32_abs(x) >= fa32_abs(a);
    float big = xbig ? x : a, small = xbig ? a : x;
    float h = x + a;
    float pos = h + ((small - (h - big)) + f);
    float y = B.hi > 0.0f ? pos : neg;
    y = B.hi > 0x1p100f ? x : y;           /* log1p(e^b)/beta is b/beta = x; inf - inf above */
    y = B.hi == B.hi ? y : B.hi;           /* a NaN product: the lean clamp made it -112 */
    return fa32_softplus_linear(B, threshold, x) ? x : y;
}
/* softplus' = sigmoid(beta x), through the sigmoid parts with the product's low part. The fast
 * level has a loop of its own for beta = 1 (_loops.h's FA_UNIT_P0, below): the default, which
 * nearly every call uses, and there beta x = x is exact. */
#define FA_UNIT_P0_softplus_bwd_ff ~, 1
FA_INLINE float softplus_bwd32(float g, float x, float beta, float threshold, const int acc)
{
    if (!acc) {
        /* Fast: g f, f = sigmoid(-|b|) from fa32_sig_deep (corrected, rounded once) or 1 - f;
         * the deep tail scaled as in silu', so a large grad_output keeps its digits. beta = 1:
         * b = x, no low part, the linear part where x > threshold. Both forms give the same
         * bits for beta = 1 (low part +-0). */
        if (FA32_IS_ONE(beta)) {
            fa32_sigd_t S = fa32_sig_deep(fa32_negabs_clamp(x, FA32_EXP_XZERO), 0.0f, x);
            float f = fa32_fma(S.rem, S.c0, S.f0);
            float sg = x < 0.0f ? f : 1.0f - f;
            return x > threshold ? g : fa32_grad_post(g, x) * sg;
        }
        /* b = hi + lo exactly. beta x > threshold: hi = RN(b) > threshold, or hi equal to it
         * and lo > 0 (a finite b that overflowed to -inf with threshold = -inf included: lo
         * = +inf; beta = 0 with x = inf, or the reverse, makes hi NaN: not linear). lo enters
         * the exp with the sign of -|b| by one addition (fa32_exp_lean_add); beyond |hi| =
         * 128, where e^-|b| is below every result's last bit and lo may be huge or inf, as 0
         * (the test is false for a NaN hi, whose NaN lo then gives NaN, as sigmoid(NaN)). */
        float hi = beta * x, lo = fa32_fma(beta, x, -hi);
        int lin = (hi > threshold) | ((hi == threshold) & (lo > 0.0f));
        float lo2 = fa32_from_bits(fa32_to_bits(lo) ^ (~fa32_to_bits(hi) & 0x80000000u));
        lo2 = fa32_abs(hi) >= 128.0f ? 0.0f : lo2;
        fa32_sigd_t S = fa32_sig_deep(fa32_negabs_clamp(hi, FA32_EXP_XZERO), lo2, hi);
        float f = fa32_fma(S.rem, S.c0, S.f0);
        float sg = hi < 0.0f ? f : 1.0f - f;
        return lin ? g : fa32_grad_post(g, hi) * sg;
    }
    /* Accurate: F = sigmoid(-|b|) or 1 - F as a pair (fa32_sig_pair on fa32_exp_lean_acc with
     * the product's low part), g folded in with one rounding; E scaled by 2^64 and g by 2^-64
     * below b = -64 (as in sigmoid'). It replaced the exp core's pairs, a corrected
     * 1/(1 + E) and a rounded sigmoid times g: 1.46 -> 1.85 Gelem/s (1M, one Zen 5 core,
     * AVX-512; AVX2 0.71 -> 0.84). */
    fa32_pair B = fa32_softplus_b(x, beta);
    float bl = fa32_softplus_lo(B);
    fa32_lean_acc_t L = fa32_exp_lean_acc(fa32_negabs_clamp(B.hi, FA32_EXP_XZERO),
                                          B.hi < 0.0f ? bl : -bl);
    int deep = B.hi < -64.0f;
    fa32_sigp_t F = fa32_sig_pair(L.t, L.t_lo, deep ? L.s64 : L.s64 * 0x1p-64f);
    float hi = B.hi < 0.0f ? F.f0 : F.c0, lo = B.hi < 0.0f ? F.F_lo : F.c_lo;
    float gp = deep ? g * 0x1p-64f : g;
    float r = fa32_fma(gp, hi, gp * lo);
    r = fa32_abs(g) <= 0x1.fffffep127f ? r : gp * hi;     /* g = inf: inf * 0 in lo */
    return fa32_softplus_linear(B, threshold, x) ? g : r;
}
/* sigmoid(beta x) = -expm1(-beta y); the linear part starts at beta y = top = max(t, 0) +
 * log1p(e^-|t|) (see the double softplus_bwo). top is loop-invariant; deciding it in float32
 * moves the switch by ~1e-7 relative, where both sides agree to 1 - e^-t anyway. */
FA_INLINE float softplus_bwo32(float g, float y, float beta, float threshold, const int acc)
{
    fa32_exp_t Et = fa32_exp_core(-fa32_abs(threshold), 0.0f, 0);
    float st = fa32_pow2_64(Et);
    fa32_pair T = fa32_log1p_exp(Et, st, 0);
    float top = fa32_max(threshold, 0.0f) + fa32_scale_s(T.hi + T.lo, st);
    fa32_pair B = fa32_softplus_b(y, beta);
    fa32_pair M = fa32_expm1_neg(-B.hi, -fa32_softplus_lo(B), acc);
    float v = acc ? -(M.hi + M.lo) : -M.hi;
    return B.hi > top ? g : g * v;
}

#endif
