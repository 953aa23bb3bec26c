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
 *
 * STAGING: the bodies below still compute in double through the float64 formulas; they are
 * being replaced by float32 SIMD math.
 */
#ifndef FASTACT_F32_EXP_H
#define FASTACT_F32_EXP_H

/* ==== float32 building blocks (prefix fa32_), shared with _f32_tanh.h and _f32_gelu.h =========
 *
 * Everything is plain float32 IEEE arithmetic plus fa32_fma, always inlined, branch-free.
 * What a caller gets:
 *   fa32_fma, fa32_abs, fa32_copysign, fa32_min, fa32_max        basic, bit-exact helpers
 *   fa32_two_prod(a, b)        a*b = hi + lo exactly (FMA)
 *   fa32_fast2sum(a, b)        a+b = hi + lo exactly, requires |a| >= |b| (or a = 0)
 *   fa32_div_fix(q0, n, n_lo, d, d_lo, inv)
 *                              corrected quotient of (n + n_lo)/(d + d_lo) from any q0 within a
 *                              few ulps and inv ~ 1/d to >= 12 bits: one division per quotient
 *                              (or none, when the caller has 1/d already)
 *   fa32_exp_core(x, x_lo, acc)
 *                              e^(x + x_lo) = (1 + t) * 2^n, parts kept apart (fa32_exp_t), so that
 *                              a caller multiplies first and scales last, rounding once
 *   fa32_pow2(E) / fa32_scale(m, E) / fa32_ldexp(m, n)
 *                              2^n; m * 2^n rounded once, also into the subnormal range
 *   fa32_exp(x, acc), fa32_expm1_neg(x, x_lo, acc)   (expm1 as an unevaluated hi + lo pair)
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
FA_INLINE float fa32_copysign(float mag, float sign)
{
    return fa32_from_bits((fa32_to_bits(mag) & 0x7fffffffu) | (fa32_to_bits(sign) & 0x80000000u));
}
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
 * x is clamped to [-104, 88.75]: n in [-150, 128], enough for every subnormal e^x and overflow. */
#define FA32_MAGIC 0x1.8000fep23f
#define FA32_LOG2E 0x1.715476p+0f
#define FA32_LN2_HI 0x1.62e43p-1f     /* float32(ln 2) */
#define FA32_LN2_LO -0x1.05c61p-29f   /* ln 2 - HI, to 2^-53 */
#define FA32_EXP_XMIN -104.0f
#define FA32_EXP_XMAX 88.75f
/* ln(2^-126) rounded up to float32, and the first x whose n is -127: arguments below the first
 * have results below FLT_MIN; callers that clamp must clamp at these, never at a round -87. */
#define FA32_LN_FLT_MIN -0x1.5d589ep+6f   /* -87.33654 */

/* expm1(r) = r + r^2 P(r), |r| <= 0.346589, P of degree 4 (total 6), Lawson minimax for relative error, float32 coefficients: max rel. error 1.36e-08 (expm1), 5.62e-09 (exp); tools/fit_f32.py */
#define FA32_EXPF_P0 0x1.fffffep-2f   /* 0.4999999701976776 */
#define FA32_EXPF_P1 0x1.5554b4p-3f   /* 0.1666654646396637 */
#define FA32_EXPF_P2 0x1.5556f6p-5f   /* 0.04166744276881218 */
#define FA32_EXPF_P3 0x1.122536p-7f   /* 0.008366252295672894 */
#define FA32_EXPF_P4 0x1.6b979cp-10f   /* 0.0013869942631572485 */
/* expm1(r) = r + r^2 P(r), |r| <= 0.346589, P of degree 5 (total 7), Lawson minimax for relative error, float32 coefficients: max rel. error 4.33e-10 (expm1), 1.79e-10 (exp); tools/fit_f32.py */
#define FA32_EXPA_P0 0x1p-1f   /* 0.5 */
#define FA32_EXPA_P1 0x1.555554p-3f   /* 0.1666666567325592 */
#define FA32_EXPA_P2 0x1.5554f8p-5f   /* 0.04166649281978607 */
#define FA32_EXPA_P3 0x1.1112dcp-7f   /* 0.008333547040820122 */
#define FA32_EXPA_P4 0x1.6d3a2ap-10f   /* 0.0013932312140241265 */
#define FA32_EXPA_P5 0x1.9e6af6p-13f   /* 0.00019760981376748532 */
/* log1p(E) = 2s + 2s^3 R(s^2), s = E/(2+E) in [0, 1/3], R of degree 3, Lawson minimax for relative error, float32 coefficients: max rel. error 4.48e-09; tools/fit_f32.py */
#define FA32_LOG1PF_R0 0x1.555502p-2f   /* 0.3333320915699005 */
#define FA32_LOG1PF_R1 0x1.99d1ccp-3f   /* 0.20010718703269958 */
#define FA32_LOG1PF_R2 0x1.1ec042p-3f   /* 0.1400151401758194 */
#define FA32_LOG1PF_R3 0x1.1eca06p-3f   /* 0.1400337666273117 */
/* log1p(E) = 2s + 2s^3 R(s^2), s = E/(2+E) in [0, 1/3], R of degree 4, Lawson minimax for relative error, float32 coefficients: max rel. error 1.14e-10; tools/fit_f32.py */
#define FA32_LOG1PA_R0 0x1.555558p-2f   /* 0.3333333730697632 */
#define FA32_LOG1PA_R1 0x1.9996d8p-3f   /* 0.1999947428703308 */
#define FA32_LOG1PA_R2 0x1.250514p-3f   /* 0.143076092004776 */
#define FA32_LOG1PA_R3 0x1.b72ad8p-4f   /* 0.10721859335899353 */
#define FA32_LOG1PA_R4 0x1.f090acp-4f   /* 0.12123171985149384 */


typedef struct {
    float n;    /* integer-valued, in [-150, 128] */
    float tm;   /* magic sum: bits(tm) << 23 = 2^n for n in [-126, 127] */
    float t;    /* e^r - 1 (acc = 1: t + t_lo) */
    float t_lo;
    float p;    /* e^r = 1 + t rounded (acc = 1: p + p_lo = 1 + t + t_lo) */
    float p_lo;
} fa32_exp_t;

/* e^(x + x_lo) = (p + p_lo) * 2^n = (1 + t + t_lo) * 2^n, |x_lo| <= ulp(x) (pass 0.0f when
 * there is none: the constant folds away). Fast (acc = 0): t from the degree-6 polynomial,
 * relative error ~1e-8 + roundings, p_lo = t_lo = 0. Accurate (acc = 1): degree 7, and r, t,
 * p carried as hi + lo, so 1 + t + t_lo is good to ~2^-28 relative. */
FA_INLINE fa32_exp_t fa32_exp_core(float x, float x_lo, const int acc)
{
    fa32_exp_t E;
    x = fa32_max(fa32_min(x, FA32_EXP_XMAX), FA32_EXP_XMIN);
    E.tm = fa32_fma(x, FA32_LOG2E, FA32_MAGIC);
    E.n = E.tm - FA32_MAGIC;
    float r1 = fa32_fma(E.n, -FA32_LN2_HI, x);            /* exact */
    if (!acc) {
        float r = fa32_fma(E.n, -FA32_LN2_LO, r1) + x_lo;
        float P = fa32_fma(fa32_fma(fa32_fma(FA32_EXPF_P4, r, FA32_EXPF_P3), r, FA32_EXPF_P2), r,
                           FA32_EXPF_P1);
        P = fa32_fma(P, r, FA32_EXPF_P0);
        E.t = fa32_fma(r * r, P, r);
        E.t_lo = 0.0f;
        E.p = 1.0f + E.t;
        E.p_lo = 0.0f;
    } else {
        float nlo = E.n * FA32_LN2_LO;                     /* |n*LO| < 3e-7, error < 2^-45 */
        float r = r1 - nlo;
        float r_lo = ((r1 - r) - nlo) + x_lo;              /* Fast2Sum error of r1 - nlo */
        float P = fa32_fma(fa32_fma(FA32_EXPA_P5, r, FA32_EXPA_P4), r, FA32_EXPA_P3);
        P = fa32_fma(fa32_fma(P, r, FA32_EXPA_P2), r, FA32_EXPA_P1);
        P = fa32_fma(P, r, FA32_EXPA_P0);
        /* e^(r + r_lo) - 1 = r + r^2 P + r_lo (1 + r) to ~2^-50; r^2 = R.hi + R.lo exactly, as
         * its rounding alone would cost 0.15 ulp of expm1 near n = 0 */
        fa32_pair R = fa32_two_prod(r, r);
        float q = fa32_fma(R.hi, P, fa32_fma(R.lo, P, fa32_fma(r_lo, r, r_lo)));
        fa32_pair T = fa32_fast2sum(r, q);                  /* |q| <= |r|/5 */
        E.t = T.hi;
        E.t_lo = T.lo;
        fa32_pair S = fa32_fast2sum(1.0f, E.t);
        E.p = S.hi;
        E.p_lo = S.lo + E.t_lo;
    }
    return E;
}

/* 2^n for n in [-126, 127] (outside: garbage; use fa32_scale or fa32_ldexp) */
FA_INLINE float fa32_pow2(fa32_exp_t E) { return fa32_from_bits(fa32_to_bits(E.tm) << 23); }

/* m * 2^n rounded once, for n <= 63 (every caller with x <= 0) and 2^-60 <= |m| <= 2^60:
 * m * 2^(n+64) is normal (exact), and the single rounding happens in the last multiply, into
 * the subnormal range when the result is there (gradual underflow done right). */
FA_INLINE float fa32_scale(float m, fa32_exp_t E)
{
    float s64 = fa32_from_bits((fa32_to_bits(E.tm) + 64u) << 23);
    return (m * s64) * 0x1p-64f;
}

/* m * 2^n rounded once for an integer-valued float n in [-190, 190] and 2^-60 <= |m| <= 2^60,
 * two steps of at most 2^127 each (select-only; cheaper callers use fa32_scale). */
FA_INLINE float fa32_ldexp(float m, float n)
{
    float k2 = n < 0.0f ? -64.0f : 64.0f;
    float s2 = n < 0.0f ? 0x1p-64f : 0x1p64f;
    float s1 = fa32_from_bits(fa32_to_bits((n - k2) + FA32_MAGIC) << 23);
    return (m * s1) * s2;
}

/* e^x over the whole float32 range: 0 below the subnormals, inf above 88.7228, correct gradual
 * underflow. Fast ~1-2 ulp, accurate < 1 ulp (rounding of p + p_lo, then one scaling). */
FA_INLINE float fa32_exp(float x, const int acc)
{
    fa32_exp_t E = fa32_exp_core(x, 0.0f, acc);
    float m = acc ? E.p + E.p_lo : E.p;
    return fa32_ldexp(m, E.n);
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

#define FA_VIA_DOUBLE_FWD32(name)                                                                  \
    FA_INLINE float name##_fwd32(float x, float p0, float p1, const int acc)                      \
    { (void)acc; return (float)name##_fwd(x, p0, p1, 0); }
#define FA_VIA_DOUBLE_BWD32(name)                                                                  \
    FA_INLINE float name##_bwd32(float g, float x, float p0, float p1, const int acc)             \
    { (void)acc; return (float)name##_bwd(g, x, p0, p1, 0); }
#define FA_VIA_DOUBLE_BWO32(name)                                                                  \
    FA_INLINE float name##_bwo32(float g, float y, float p0, float p1, const int acc)             \
    { (void)acc; return (float)name##_bwo(g, y, p0, p1, 0); }

FA_VIA_DOUBLE_FWD32(sigmoid) FA_VIA_DOUBLE_BWD32(sigmoid) FA_VIA_DOUBLE_BWO32(sigmoid)
FA_VIA_DOUBLE_FWD32(silu) FA_VIA_DOUBLE_BWD32(silu)
FA_VIA_DOUBLE_FWD32(softplus) FA_VIA_DOUBLE_BWD32(softplus) FA_VIA_DOUBLE_BWO32(softplus)
FA_VIA_DOUBLE_FWD32(elu) FA_VIA_DOUBLE_BWD32(elu) FA_VIA_DOUBLE_BWO32(elu)
FA_VIA_DOUBLE_FWD32(selu) FA_VIA_DOUBLE_BWD32(selu) FA_VIA_DOUBLE_BWO32(selu)
FA_VIA_DOUBLE_FWD32(celu) FA_VIA_DOUBLE_BWD32(celu) FA_VIA_DOUBLE_BWO32(celu)

#endif
