/* float32 math at two precision levels: gelu, the erf form. The contract is _f32_exp.h's.
 *
 * With a = |x| and Phi(-a) = exp(-a^2/2) R(a), R(a) = erfcx(a/sqrt 2)/2:
 *   gelu(x)  = -a Phi(-a)                 for x <= 0,   x - a Phi(-a)          for x > 0,
 *   gelu'(x) = Phi(-a) - a phi(a)         for x <= 0,   1 - (Phi(-a) - a phi(a)) for x > 0,
 * one formula over the whole line: no cancellation (the x > 0 subtraction loses nothing,
 * a Phi(-a) <= x/2), no 1 - Phi, and full relative accuracy down the negative tail to the last
 * subnormal. R is a polynomial in t = K/(K+a); exp(-a^2/2) = (1 + e) 2^k, k by the shifter.
 *
 * Why double: this tail was first written in float32 with the error-free tricks (a^2 as
 * hi + lo, the exact error of t = K/(K+a) fed back through R'(t), coefficients chosen so the
 * constant term is a float32): measured 2.6 ulp, from three full-size roundings that the
 * polynomial's conditioning near a = 0.5 (R falls to half its expansion constant) and the exp
 * core (0.46 ulp of relative error) leave no room to hide. In double every intermediate error is
 * below 2^-40 relative, so the only errors left are the two fits and the final rounding, and
 * one formula covers every x (no small-|x| branch). a^2 is exact in double (a is a float), so
 * exp(-a^2/2) has no hi + lo to carry; m * 2^k is exact in double down to 2^-152, so the
 * conversion to float32 is the single rounding, correct into the subnormal range.
 * Measured (all 2^32 inputs, see the commit message): fast 0.69 ulp forward, 0.67 backward;
 * accurate 0.506 / 0.507.
 * A second float32 forward (session 3: x/2 + x^2 E(x^2) for |x| <= 0.75, beyond it
 * A exp(-a^2/2 + L) with L = ln(4R) in a up to 3 and ln(4aR) in 1/a beyond, L joined to the
 * exact -a^2/2 inside the exp argument) held 1.69 ulp (every 7th input) but ran 1.50 Gelem/s
 * against 1.26-1.44 for this one in the same runs (2^16 and 2^20, one Zen 4 core): 91 AVX-512
 * instructions per 16 lanes, 37 of them FMA/multiply (the exp core with a low part, two
 * polynomial pieces selected per lane, the small-|x| polynomial). Not worth 2.5x the error.
 *
 * Levels: fast = exp polynomial of degree 6 (_f32_exp.h's FA32_EXPF_*, 5.6e-9) and R of
 * degree 9 (9.5e-9); accurate = degree 7 (FA32_EXPA_*, 1.8e-10) and degree 11 (2.8e-10).
 */
#ifndef FASTACT_F32_GELU_H
#define FASTACT_F32_GELU_H

/* Beyond 14.6, a Phi(-a) and a phi(a) are below 2^-150: both round to 0 (forward -0.0). */
#define FA32G_AMAX 14.6f

/* R(t) at both levels, fitted and written by tools/fit_f32_gelu.py (range, degree, measured
 * error and method are in that header) */
#include "_f32_gelu_coef.h"

typedef struct {
    double a;  /* |x| clamped to FA32G_AMAX */
    double R;  /* erfcx(a / sqrt 2) / 2 */
    double e;  /* exp(-a^2/2) = (1 + e) * p2 */
    double p2; /* 2^k, k in [-152, 0]: a normal double */
} fa32g_tail;

FA_INLINE fa32g_tail fa32g_tail_parts(float x, const int acc)
{
    fa32g_tail T;
    double a = fa32_min(fa32_abs(x), FA32G_AMAX);
    double xe = -0.5 * (a * a); /* exact: a has 24 bits */
    double sh = FA_MULADD(xe, FA_LOG2E, FA_SHIFTER);
    double k = sh - FA_SHIFTER;
    double r = FA_MULADD(k, -FA_LN2_HI, xe); /* |r| <= 0.3466 */
    r = FA_MULADD(k, -FA_LN2_LO, r);
    double P;
    if (!acc) {
        P = FA_MULADD(FA_MULADD(FA_MULADD(FA32_EXPF_P4, r, FA32_EXPF_P3), r, FA32_EXPF_P2), r,
                      FA32_EXPF_P1);
        P = FA_MULADD(P, r, FA32_EXPF_P0);
    } else {
        P = FA_MULADD(FA_MULADD(FA_MULADD(FA32_EXPA_P5, r, FA32_EXPA_P4), r, FA32_EXPA_P3), r,
                      FA32_EXPA_P2);
        P = FA_MULADD(FA_MULADD(P, r, FA32_EXPA_P1), r, FA32_EXPA_P0);
    }
    T.e = FA_MULADD(r * r, P, r);
    T.p2 = fa_bits_to_double((fa_double_to_bits(sh) + 1023) << 52); /* the shifter's low bits are k */
    double s, R;
    if (!acc) {
        s = FA32G_FK / (FA32G_FK + a) - FA32G_FMID;
        R = FA32G_FR[9];
#pragma GCC unroll 16
        for (int j = 8; j >= 0; j--) R = FA_MULADD(R, s, FA32G_FR[j]);
    } else {
        s = FA32G_AK / (FA32G_AK + a) - FA32G_AMID;
        R = FA32G_AR[11];
#pragma GCC unroll 16
        for (int j = 10; j >= 0; j--) R = FA_MULADD(R, s, FA32G_AR[j]);
    }
    T.a = a;
    T.R = R;
    return T;
}

FA_INLINE float gelu_fwd32(float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    fa32g_tail T = fa32g_tail_parts(x, acc);
    double m = T.a * T.R;
    double aPhi = FA_MULADD(m, T.e, m) * T.p2; /* a Phi(-a), exact scaling */
    return (float)(x >= 0.0f ? (double)x - aPhi : -aPhi); /* +0 -> +0, -0 -> -0 */
}

/* g is applied in double before the one rounding, so g * gelu'(x) is right even where gelu'(x)
 * alone would be subnormal in float32. */
FA_INLINE float gelu_bwd32(float g, float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    fa32g_tail T = fa32g_tail_parts(x, acc);
    double D = FA_MULADD(-T.a, FA_INV_SQRT_2PI, T.R);
    double U = FA_MULADD(D, T.e, D) * T.p2; /* Phi(-a) - a phi(a) */
    return (float)((double)g * (x > 0.0f ? 1.0 - U : U));
}

#endif
