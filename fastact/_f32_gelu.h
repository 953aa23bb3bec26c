/* float32 math at two precision levels: gelu, the erf form. The contract is _f32_exp.h's.
 *
 * With a = |x| and Phi(-a) = exp(-a^2/2) R(a), R(a) = erfcx(a/sqrt 2)/2:
 *   gelu(x)  = -a Phi(-a)                 for x <= 0,   x - a Phi(-a)          for x > 0,
 *   gelu'(x) = Phi(-a) - a phi(a)         for x <= 0,   1 - (Phi(-a) - a phi(a)) for x > 0:
 * no cancellation (the x > 0 subtraction loses nothing, a Phi(-a) <= x/2), no 1 - Phi, and full
 * relative accuracy down the negative tail to the last subnormal.
 *
 * Fast level, float32 (forward <= 2 ulp, backward <= 4): |x| <= 0.75 takes an odd polynomial
 * (x/2 + x^2 E(x^2), 1/2 + x F(x^2): no exp), beyond it the tail above with -a^2/2 carried
 * exactly as hi + lo into _f32_exp.h's exp core, and R (backward) or a R (forward) a float32
 * polynomial in t = 3/(3+a) whose rounding is corrected: t = 3/d comes with its exact remainder
 * 3 - t d (and d = 3 + a with its exact rounding error), so the true t is t (1 + rem/3), and the
 * polynomial moves by P'(t) t rem/3, a term ~2^-23 that needs P' only to a few percent. Without
 * it the two roundings of t reached the result amplified (K+a)/a times (3.6 ulp at a = 0.76:
 * the first float32 attempt's failure, with one polynomial down to a = 0).
 *
 * Accurate level, double (<= 1 / <= 2 ulp): one formula for every x, R a polynomial in
 * t = 4/(4+a) over [0, 14.6]; every intermediate error is below 2^-40 relative, a^2 is exact in
 * double, and m * 2^k is exact down to 2^-152, so the conversion to float32 is the one rounding.
 * Measured (all 2^32 inputs): accurate 0.506 ulp forward, 0.507 backward (the double tail ran
 * the fast level too before, 0.69 / 0.67 ulp at 1.4 Gelem/s both ways on one Zen 4 core).
 *
 * A float32 forward tried on the way (x/2 + x^2 E up to 0.75, then A exp(-a^2/2 + L) with
 * L = ln(4R) in a up to 3 and ln(4aR) in 1/a beyond, L joined to the exact -a^2/2 inside the
 * exp argument, no division correction) held 1.69 ulp but ran 1.50 Gelem/s: the two pieces'
 * per-lane coefficient selects cost more than the correction of t does.
 */
#ifndef FASTACT_F32_GELU_H
#define FASTACT_F32_GELU_H

/* Beyond 14.6, a Phi(-a) and a phi(a) are below 2^-150: both round to 0 (forward -0.0). */
#define FA32G_AMAX 14.6f

/* the polynomials of both levels, fitted and written by tools/fit_f32_gelu.py (range, degree,
 * measured error and method are in that header) */
#include "_f32_gelu_coef.h"

/* accurate level: the tail in double (exp polynomial FA32_EXPA_*, degree 7, 1.8e-10; R of
 * degree 11, 2.8e-10) */
typedef struct {
    double a;  /* |x| clamped to FA32G_AMAX */
    double R;  /* erfcx(a / sqrt 2) / 2 */
    double e;  /* exp(-a^2/2) = (1 + e) * p2 */
    double p2; /* 2^k, k in [-152, 0]: a normal double */
} fa32g_tail;

FA_INLINE fa32g_tail fa32g_tail_parts(float x)
{
    fa32g_tail T;
    double a = fa32_min(fa32_abs(x), FA32G_AMAX);
    double xe = -0.5 * (a * a); /* exact: a has 24 bits */
    double sh = FA_MULADD(xe, FA_LOG2E, FA_SHIFTER);
    double k = sh - FA_SHIFTER;
    double r = FA_MULADD(k, -FA_LN2_HI, xe); /* |r| <= 0.3466 */
    r = FA_MULADD(k, -FA_LN2_LO, r);
    double P = FA_MULADD(FA_MULADD(FA_MULADD(FA32_EXPA_P5, r, FA32_EXPA_P4), r, FA32_EXPA_P3), r,
                         FA32_EXPA_P2);
    P = FA_MULADD(FA_MULADD(P, r, FA32_EXPA_P1), r, FA32_EXPA_P0);
    T.e = FA_MULADD(r * r, P, r);
    T.p2 = fa_bits_to_double((fa_double_to_bits(sh) + 1023) << 52); /* the shifter's low bits are k */
    double s = FA32G_AK / (FA32G_AK + a) - FA32G_AMID;
    double R = FA32G_AR[11];
#pragma GCC unroll 16
    for (int j = 10; j >= 0; j--) R = FA_MULADD(R, s, FA32G_AR[j]);
    T.a = a;
    T.R = R;
    return T;
}

/* The fast forward:
 *   |x| <= C0 = 0.75:  gelu = x/2 + x^2 E(x^2), no exp. On the negative side x/2 and x^2 E
 *     cancel by at most 2.2x (at -0.75): the rounding of x^2 costs most of the 1.7 ulp there.
 *   |x| > C0:  a Phi(-a) = exp(-a^2/2) Q, Q = a R(a) a polynomial in t = 3/(3+a). Q rather
 *     than R: it flattens towards 1/sqrt(2 pi), and a Phi(-a) = fma(Q, t_e, Q) 2^n is one
 *     rounding after Q's. The correction of t enters as a relative one, G rem with
 *     G = (d ln Q/dt) t/3 (a cubic to 2.5%), added to the low part of the exp argument (the
 *     cheapest place: exp(lo + c) = exp(lo) (1 + c)). x > 0 takes x - a Phi(-a), where
 *     a Phi(-a) <= 0.23 x: its error reaches gelu shrunk; x < 0 takes 0 - a Phi(-a). */
FA_INLINE float fa32g_gelu_fast(float x)
{
    float a = fa32_abs(x);
    float at = fa32_min(a, FA32G_AMAX);
    float u = at * at;
    float E = fa32_fma(fa32_fma(fa32_fma(fa32_fma(FA32G_E4, u, FA32G_E3), u, FA32G_E2), u,
                                FA32G_E1), u, FA32G_E0);
    float ys = fa32_fma(u, E, 0.5f * x);

    float d = FA32G_K + at;
    float t = FA32G_K / d;
    float d_lo = (FA32G_K - d) + at;                 /* exact for a < 4; beyond, Q barely moves */
    float rem = fa32_fma(-t, d_lo, fa32_fma(-t, d, FA32G_K));   /* 3 (true t - t) / t */
    float s = t - FA32G_QMID;                          /* exact (Sterbenz) for a < 9.4 */
    float Q = fa32_fma(fa32_fma(fa32_fma(fa32_fma(FA32G_Q8, s, FA32G_Q7), s, FA32G_Q6), s,
                                FA32G_Q5), s, FA32G_Q4);
    Q = fa32_fma(fa32_fma(fa32_fma(fa32_fma(Q, s, FA32G_Q3), s, FA32G_Q2), s, FA32G_Q1), s,
                 FA32G_Q0);
    float G = fa32_fma(fa32_fma(fa32_fma(FA32G_G3, s, FA32G_G2), s, FA32G_G1), s, FA32G_G0);
    float hi = -0.5f * u;
    float lo = fa32_fma(G, rem, -0.5f * fa32_fma(at, at, -u));   /* + ln(Q(true t)/Q(t)) */
    fa32_exp_t X = fa32_exp_core_(hi, lo, 0);          /* -106.6 <= hi <= 0: no clamp */
    float ap = fa32_scale(fa32_fma(Q, X.t, Q), X);        /* a Phi(-a) */
    float y = a <= FA32G_C0 ? ys : fa32_max(x, 0.0f) - ap;
    /* gelu has the sign of x: or-ing it in gives x < 0 its -a Phi(-a) (from 0 - a Phi(-a)) and
     * keeps gelu(-0) = -0 (fma(+0, E, -0) is +0; a negated form, -fma(-u, E, -x/2), is folded
     * back by gcc's vectorizer) */
    return fa32_from_bits(fa32_to_bits(y) | (fa32_to_bits(x) & 0x80000000u));
}

FA_INLINE float gelu_fwd32(float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc)
        return fa32g_gelu_fast(x);
    fa32g_tail T = fa32g_tail_parts(x);
    double m = T.a * T.R;
    double aPhi = FA_MULADD(m, T.e, m) * T.p2; /* a Phi(-a), exact scaling */
    return (float)(x >= 0.0f ? (double)x - aPhi : -aPhi); /* +0 -> +0, -0 -> -0 */
}

/* The fast backward (gelu'(x) alone; the caller multiplies by g, one more rounding in 4 ulp):
 *   |x| <= C0 = 0.75:  gelu' = 1/2 + x F(x^2), no exp. Near gelu's zero at -0.7518 errors count
 *     in ulps of 1/8, so the cancellation there costs nothing.
 *   |x| > C0:  U = Phi(-a) - a phi(a) = exp(-a^2/2) D, D = R(a) - a/sqrt(2 pi) (the constant
 *     as HI + LO), R a polynomial in t = 3/(3+a) corrected for the rounding of t by R'(t) dt
 *     (R' from its first three terms), added inside D's FMAs; gelu' = U for x < 0 and
 *     1 - U for x > 0. D (1 + t_e) is one FMA, scaled by 2^n last (subnormal-correct). */
FA_INLINE float fa32g_dgelu_fast(float g, float x)
{
    float a = fa32_abs(x);
    float at = fa32_min(a, FA32G_AMAX);
    float u = at * at;
    float F = fa32_fma(fa32_fma(fa32_fma(fa32_fma(FA32G_F5, u, FA32G_F4), u, FA32G_F3), u,
                                FA32G_F2), u, FA32G_F1);
    float ys = fa32_fma(x * u, F, fa32_fma(x, FA32G_F0, 0.5f));

    float hi = -0.5f * u, lo = -0.5f * fa32_fma(at, at, -u);   /* -a^2/2 = hi + lo exactly */
    fa32_exp_t X = fa32_exp_core_(hi, lo, 0);                  /* -106.6 <= hi <= 0 */
    float d = FA32G_K + at;
    float t = FA32G_K / d;
    float d_lo = (FA32G_K - d) + at;                 /* exact for a < 4; beyond, R barely moves */
    float dt = fa32_fma(-t, d_lo, fa32_fma(-t, d, FA32G_K)) * t;   /* 3 (true t - t) */
    float s = t - FA32G_BMID;                          /* exact (Sterbenz) for a < 5 */
    float P = fa32_fma(fa32_fma(fa32_fma(fa32_fma(FA32G_B8, s, FA32G_B7), s, FA32G_B6), s,
                                FA32G_B5), s, FA32G_B4);
    P = fa32_fma(fa32_fma(fa32_fma(P, s, FA32G_B3), s, FA32G_B2), s, FA32G_B1);
    /* R'(s)/3 from the derivative's first three terms: a few percent for a < 2 (|s| < 0.15),
     * where the correction counts; coarser beyond, where R is a small part of D */
    float Rp = fa32_fma(fa32_fma(3.0f / FA32G_K * FA32G_B3, s, 2.0f / FA32G_K * FA32G_B2), s,
                        FA32G_B1 / FA32G_K);
    float c = fa32_fma(-at, FA32G_S2P_LO, Rp * dt);            /* the small terms */
    float D = fa32_fma(P, s, fa32_fma(-at, FA32G_S2P_HI, FA32G_B0) + c);
    float s64 = fa32_from_bits((fa32_to_bits(X.tm) + 64u) << 23);
    float U = (fa32_fma(D, X.t, D) * s64) * 0x1p-64f;        /* Phi(-a) - a phi(a) */
    /* x < 0: g U with g folded in before the scaling (fa32_g_prescale), so that g gelu'(x) is
     * right where gelu'(x) alone is subnormal (x < -13.4): applied after, g = 2^20 cost 236 ulp */
    float post, gp = fa32_g_prescale(g, 0xffffffffu, &post);
    /* beyond the clamp (a > 14.6) gelu'(x) < 2^-150: 0, not g gelu'(-14.6) */
    float gD = gp * (fa32_to_bits(a) <= fa32_to_bits(FA32G_AMAX) ? D : 0.0f);   /* inf 0: NaN */
    float gU = (fa32_fma(gD, X.t, gD) * s64) * post;
    gU = gU == gU ? gU : g * U;                              /* g = +-inf: inf - inf */
    float yt = x > 0.0f ? g * (1.0f - U) : gU;
    return a <= FA32G_C0 ? g * ys : yt;
}

/* accurate level: g is applied in double before the one rounding, so g * gelu'(x) is right even
 * where gelu'(x) alone would be subnormal in float32. */
FA_INLINE float gelu_bwd32(float g, float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc)
        return fa32g_dgelu_fast(g, x);
    fa32g_tail T = fa32g_tail_parts(x);
    double D = FA_MULADD(-T.a, FA_INV_SQRT_2PI, T.R);
    double U = FA_MULADD(D, T.e, D) * T.p2; /* Phi(-a) - a phi(a) */
    return (float)((double)g * (x > 0.0f ? 1.0 - U : U));
}

#endif
