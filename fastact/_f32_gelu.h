/* float32 math at two precision levels: gelu, the erf form. The contract is _f32_exp.h's.
 *
 * With a = |x| and Phi(-a) = exp(-a^2/2) R(a), R(a) = erfcx(a/sqrt 2)/2:
 *   gelu(x)  = -a Phi(-a)                 for x <= 0,   x - a Phi(-a)          for x > 0,
 *   gelu'(x) = Phi(-a) - a phi(a)         for x <= 0,   1 - (Phi(-a) - a phi(a)) for x > 0:
 * no cancellation (the x > 0 subtraction loses nothing, a Phi(-a) <= x/2), no 1 - Phi, and full
 * relative accuracy down the negative tail to the last subnormal.
 *
 * Fast level, float32 (forward <= 2 ulp, backward <= 4): one form for every x, no division,
 * written once (FA32G_POLY, FA32G_EXP) for the scalar code and the AVX2 and AVX-512 loops:
 *   gelu(x)  = max(x, 0) - a Phi(-a),      a Phi(-a) = exp(-a^2/2) Q_i(s)   or  Q~_i(s)
 *   gelu'(x) = [x > 0] - sign(x) U,        U = Phi(-a) - a phi(a) = exp(-a^2/2) D_i(s)  or  D~_i(s)
 * with i one of 32 intervals of a, s = a - C_i, and Q_i, D_i (a >= 3: a R(a), R(a) - a/sqrt(2 pi))
 * or Q~_i, D~_i (a < 3: the whole a Phi(-a), gelu'(-a), the Gaussian included) degree-5
 * polynomials whose coefficients are looked up by i (tools/fit_f32_gelu.py: tables, centres,
 * errors). The lookup is not arithmetic: a register permute (vpermt2ps on AVX-512), a row load
 * and a transpose (AVX2) or an array index (scalar) gives the same coefficients, and every
 * instruction set does the same float operations in the same order, so the bits agree (test_isa,
 * digest).
 * For a < 3 the exp argument is 0 (the exp is exactly 1, t = 0, n = 0), so a vector with every
 * lane below 3 skips the exp and gets the same bits: 96% of 16-lane vectors of standard-normal
 * data. Beyond 3, -a^2/2 = -(u + u_lo)/2 exactly (u = a^2 and its FMA residual) enters the exp
 * core's reduction, and the product with 2^n is the last operation, one FMA with x (or -0 for
 * x < 0): x > 0 rounds once, x < 0 is exact (subnormal results rounded once too). Measured over
 * all 2^32 inputs (tools/accuracy.py): 1.649 ulp forward (x = -3.0241), 1.776 backward
 * (x = -6.7073); 1.590 and 1.791 before the exp's polynomial went from Horner's scheme to
 * Estrin's (session 8, below). Degree 5 (2^-25.3 forward, 2^-25.5 backward in the worst
 * interval, a in [2.75, 3); degree 6 had 2^-27.1 and 2^-27.7) left the worst cases where they
 * were (degree 6: 1.595 ulp at x = -3.0174, 1.791 at -6.7045) and saves a permute and an FMA
 * per vector;
 * degree 4 would not hold (2^-20 on a in [1, 3), where the Gaussian is inside the polynomial).
 * Why it replaced the form before (x/2 + x^2 E(x^2) for |x| <= 0.75, else exp
 * times a polynomial in t = 3/(3 + a) with t's rounding corrected; 1.809 / 2.893 ulp): that one
 * ran 81 AVX-512 instructions per 16 lanes, 38 of them FMA/multiply, and a division; this one
 * runs 37 (forward; 39 at degree 6) in a vector that needs the exp and 19 (21) in one that does
 * not (vector instructions in gcc's loop, register copies and loads not counted), and on the Zen 5
 * core measured the count of vector instructions is the speed (about 3 per cycle, whatever the
 * mix of FMAs, permutes and adds; see the loops' comment for the figures).
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

/* accurate level: beyond 14.6, a Phi(-a) and a phi(a) are below 2^-150: both round to 0; the
 * backward goes on to 20, where gelu'(x) = 2^-284 and g gelu'(x) rounds to 0 for every float32
 * g (loss scaling: its digits are kept down to there, the exp's 2^k being a normal double). R's
 * polynomial, fitted up to 14.6, extrapolates to 1.6e-7 relative at 20, but the backward's
 * D = R - a/sqrt(2 pi) is within 4.1e-10 of its value (a/sqrt(2 pi) dominates). */
#define FA32G_AMAX 14.6f
#define FA32G_AMAX_BWD 20.0f

/* the tables and polynomials of both levels, fitted and written by tools/fit_f32_gelu.py (range,
 * degree, measured error and method are in that header) */
#include "_f32_gelu_coef.h"

/* accurate level: the tail in double (exp polynomial FA32_EXPA_*, degree 7, 1.8e-10; R of
 * degree 11, 2.8e-10) */
typedef struct {
    double a;  /* |x| clamped to FA32G_AMAX (FA32G_AMAX_BWD) */
    double R;  /* erfcx(a / sqrt 2) / 2 */
    double e;  /* exp(-a^2/2) = (1 + e) * p2 */
    double p2; /* 2^k, k in [-289, 0]: a normal double */
} fa32g_tail;

FA_INLINE fa32g_tail fa32g_tail_parts(float x, const float amax)
{
    fa32g_tail T;
    double a = fa32_min(fa32_abs(x), amax);
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

/* ---- fast level ------------------------------------------------------------------------------
 * Interval index: k = bits(a + 1) >> 20, whose low 5 bits (all a lookup reads) are the exponent's
 * low bits and 3 mantissa bits of a + 1: 8 intervals per octave of a + 1, a in [0, 15). Every
 * centre C_i is within a factor 2 of every a of its interval (or 0, interval 0), so s = a - C_i
 * is exact. The exp is _f32_exp.h's fast core at doubled argument: r' = (u + 2n ln2_HI) +
 * (u_lo + 2n ln2_LO) = -2 r (the first FMA exact, the sum rounded once, as the core's r), and
 * t2 = 2 (e^r - 1) = -r' + r'^2 P'(r') with the core's coefficients scaled by (-1/2)^j / 2 (exact),
 * so m2 = Q (2 + t2) = fma(Q, t2, Q + Q) is 2 Q e^r rounded once. The magic constant's bias
 * (MAG: 126, backward 130 with D carrying 2^-4) makes bits(tm) << 23 = 2^(n-1) (2^(n+3)
 * backward); on the last two intervals (a + 1 >= 14), whose polynomials carry 2^-36 and 2^-35,
 * a bias 36 and 31 higher (162 and 161) keeps it normal down to the clamp a = 14.95
 * (n = -161), where it is 2^-126 forward (-0 beyond) and 0 backward (0 beyond, not
 * g gelu'(clamp); NaN for g = +-inf, inf * 0). n = 0 for a < 3 (exp argument 0).
 * The lanes below 3 are masked where it costs least: on AVX-512 the magic sum keeps mg there
 * (mask3) and r is zeroed (maskz), both free, so a^2 and its residual do not wait for the compare;
 * on AVX2 and in the scalar code a^2 and its residual are zeroed. The same values either way
 * (u, u_lo, n and r are 0, tm is mg in those lanes). The exp's polynomial is evaluated by Estrin's
 * scheme, r^2 computed once for it and for t2: the same operations as Horner's, 12 cycles of
 * latency instead of 16. Measured together (C harness, one Zen 5 core, uniform[-10, 10]):
 * forward +3%, backward +5% on AVX-512 (late masking alone +2-3% / +1.5%); AVX2 within noise
 * (its late masking, a blend, measured -2.5%, so AVX2 masks early). Estrin's scheme changes the
 * rounding: 1.649 / 1.776 ulp (above).
 * The magic constant comes with the centre C looked up anyway: the last two intervals' centres
 * carry PAY = bits(MAG) ^ bits(MAG + 36) (31 backward) in their low byte, which is 0 in every
 * other centre, and the constant is MAG's bits xor C's low byte (fa32*_mag: one vpternlogd on
 * AVX-512, an and and a xor on AVX2 and in the scalar code). MAG + 36 and MAG are integers in
 * [2^23, 2^24), so tm = fma(u, NL2E, MAG + 36) is the old tm + 36 exactly (u NL2E is never a
 * half-integer: NL2E's mantissa is odd and |u NL2E| < 2^22) and n = tm - (MAG + 36) the same n.
 * The payload moves those two centres by up to 220 ulps (s = a - C stays exact; the fitter
 * centres the polynomials on the moved C). Measured against the vpermt2ps of a 32-entry table
 * of constants that did this before (C harness, uniform[-10, 10], one Zen 5 core): forward
 * +1.7% at 2^16 and +1.1% at 2^20, backward +0.3%. */
#define FA32G_X4 (FA32_EXPF_P4 * 0x1p-5f)
#define FA32G_X3 (-FA32_EXPF_P3 * 0x1p-4f)
#define FA32G_X2 (FA32_EXPF_P2 * 0x1p-3f)
#define FA32G_X1 (-FA32_EXPF_P1 * 0x1p-2f)
#define FA32G_X0 (FA32_EXPF_P0 * 0x1p-1f)
#define FA32G_NL2E (-0.5f * FA32_LOG2E)
#define FA32G_HI2 (2.0f * FA32_LN2_HI)
#define FA32G_LO2 (2.0f * FA32_LN2_LO)

/* One lane's work, for the operations of an instruction set P (P##_add etc., below): the
 * polynomial's part (needs a, gives the index k and q = Q_i(s)), then the exp's (gives m2 and the
 * power of two pw). TB is the table set (FA32G_F forward, FA32G_B backward) as P's lookup
 * wants it. */
#define FA32G_POLY(P, TB, DEG, at, k, c, q)                                                  \
    P##_i k = P##_index(TB, P##_add(at, P##_set(1.0f)));                                     \
    P##_v c = P##_lut(TB##C, k), q;                                                          \
    {                                                                                        \
        P##_v s_ = P##_sub(at, c);                                                           \
        FA32G_CAT(FA32G_HORNER, DEG)(P, TB, k, s_, q)                                        \
        q = P##_fma(q, s_, P##_lut(TB##P3, k));                                              \
        q = P##_fma(q, s_, P##_lut(TB##P2, k));                                              \
        q = P##_fma(q, s_, P##_lut(TB##P1, k));                                              \
        q = P##_fma(q, s_, P##_lut(TB##P0, k));                                              \
    }
/* the top of Horner's scheme by the degree of the table set (FA32G_FDEG, FA32G_BDEG) */
#define FA32G_CAT_(a, b) a##b
#define FA32G_CAT(a, b) FA32G_CAT_(a, b)
#define FA32G_HORNER6(P, TB, k, s_, q)                                                       \
    q = P##_fma(P##_lut(TB##P6, k), s_, P##_lut(TB##P5, k));                                 \
    q = P##_fma(q, s_, P##_lut(TB##P4, k));
#define FA32G_HORNER5(P, TB, k, s_, q) q = P##_fma(P##_lut(TB##P5, k), s_, P##_lut(TB##P4, k));
#define FA32G_HORNER4(P, TB, k, s_, q) q = P##_lut(TB##P4, k);
#define FA32G_EXP(P, TB, at, c, q, m2, pw)                                                   \
    P##_v m2, pw;                                                                            \
    {                                                                                        \
        P##_m ex_ = P##_ge(P##_add(at, P##_set(1.0f)), P##_set(4.0f)); /* a >= 3 */          \
        P##_v u_ = P##_sq_ex(ex_, at);                                                       \
        P##_v ul_ = P##_sqlo_ex(ex_, at, u_);                                                \
        P##_v mg_ = P##_mag(TB, c); /* MAG, biased 36 (31) more on the last two intervals */ \
        P##_v tm_ = P##_magic_ex(ex_, u_, mg_);                                              \
        P##_v n_ = P##_sub(tm_, mg_);                                                        \
        P##_v r_ = P##_sum_ex(ex_, P##_fma(n_, P##_set(FA32G_HI2), u_),                      \
                              P##_fma(n_, P##_set(FA32G_LO2), ul_));                         \
        P##_v rr_ = P##_mul(r_, r_);                                                         \
        P##_v p_ = P##_fma(P##_fma(P##_set(FA32G_X4), rr_,                                   \
                                   P##_fma(P##_set(FA32G_X3), r_, P##_set(FA32G_X2))),       \
                           rr_, P##_fma(P##_set(FA32G_X1), r_, P##_set(FA32G_X0)));          \
        P##_v t2_ = P##_fms(rr_, p_, r_);                                                    \
        m2 = P##_fma(q, t2_, P##_add(q, q));                                                 \
        pw = P##_pow2(tm_);                                                                  \
    }
/* the vectors whose lanes are all below 3 (exp argument 0 in every lane): the same bits */
#define FA32G_EXP0(P, TB, q, m2, pw)                                                         \
    P##_v m2 = P##_add(q, q), pw = P##_set(TB##PW0);
#define FA32G_BPW0 0x1p3f    /* 2^(0 + 130 - 127) */
/* forward: xp - 2^(n-1) m2 with xp = x for x >= 0 and -0 for x < 0, so that a result that
 * rounds to zero keeps the sign of gelu(x) (-1e-45 gives -0). Backward: g [x > 0] -+ g 2^(n+3) m2
 * (D carries 2^-4) with the addend -0 for x < 0 (g = +-0 then gives the sign of g f'(x)). For
 * x >= 0 (f' >= 1/2 there) the result takes g itself where it is NaN or equal to g: the sum
 * inf - inf (g = +-inf, 0 <= x < 0.7518) becomes g f'(x), and g = -0 gets -0 where the sum of
 * +0 (the product) and -0 gave +0; elsewhere equal floats have equal bits, so the same compare
 * as a NaN test alone, no extra instruction. */
#define FA32G_FWD_OUT(P, x, m2, pw) P##_fnma(m2, pw, P##_xpos(x))
#define FA32G_BWD_OUT(P, g, x, m2, pw)                                                       \
    P##_fixinf(P##_fma(P##_mul(P##_flipg(g, x), m2), pw, P##_gpos(g, x)), g, x)

/* scalar operations (the ones gcc vectorizes in the loops' remainders and the other paths) */
typedef float fa32s_v;
typedef uint32_t fa32s_i;
typedef int fa32s_m;
#define fa32s_set(c) (c)
#define fa32s_add(a, b) ((a) + (b))
#define fa32s_sub(a, b) ((a) - (b))
#define fa32s_mul(a, b) ((a) * (b))
#define fa32s_fma(a, b, c) fa32_fma(a, b, c)
#define fa32s_fms(a, b, c) fa32_fma(a, b, -(c))
#define fa32s_fnma(a, b, c) fa32_fma(-(a), b, c)
#define fa32s_index(TB, v) (fa32_to_bits(v) >> 20)
#define fa32s_lut(T, k) ((T)[(k) & 31u])
#define fa32s_ge(a, b) ((a) >= (b))
#define fa32s_sq_ex(m, a) ((m) ? (a) * (a) : 0.0f)
#define fa32s_sqlo_ex(m, a, u) ((m) ? fa32_fma(a, a, -(u)) : 0.0f)
#define fa32s_magic_ex(m, u, mg) fa32_fma(u, FA32G_NL2E, mg)
#define fa32s_sum_ex(m, a, b) ((a) + (b))
#define fa32s_pow2(tm) fa32_from_bits(fa32_to_bits(tm) << 23)
#define fa32s_mag(TB, c) fa32_from_bits(fa32_to_bits(TB##MAG) ^ (fa32_to_bits(c) & 0xffu))
#define fa32s_xpos(x) ((x) < 0.0f ? -0.0f : (x))
#define fa32s_flipg(g, x) fa32_from_bits(fa32_to_bits(g) ^ (~fa32_to_bits(x) & 0x80000000u))
#define fa32s_gpos(g, x) ((fa32_to_bits(x) >> 31) ? -0.0f : (g))
#define fa32s_fixinf(y, g, x) ((((y) != (y) || (y) == (g)) && (x) >= 0.0f) ? (g) : (y))
/* the tables as the scalar lookup reads them */
#define FA32G_FP0 FA32G_FP[0]
#define FA32G_FP1 FA32G_FP[1]
#define FA32G_FP2 FA32G_FP[2]
#define FA32G_FP3 FA32G_FP[3]
#define FA32G_FP4 FA32G_FP[4]
#if FA32G_FDEG >= 5
#define FA32G_FP5 FA32G_FP[5]
#endif
#if FA32G_FDEG >= 6
#define FA32G_FP6 FA32G_FP[6]
#endif
#define FA32G_BP0 FA32G_BP[0]
#define FA32G_BP1 FA32G_BP[1]
#define FA32G_BP2 FA32G_BP[2]
#define FA32G_BP3 FA32G_BP[3]
#define FA32G_BP4 FA32G_BP[4]
#if FA32G_BDEG >= 5
#define FA32G_BP5 FA32G_BP[5]
#endif
#if FA32G_BDEG >= 6
#define FA32G_BP6 FA32G_BP[6]
#endif

FA_INLINE float fa32g_gelu_fast(float x)
{
    float at = fa32_min(fa32_abs(x), FA32G_FAST_AMAX);
    FA32G_POLY(fa32s, FA32G_F, FA32G_FDEG, at, k, c, q)
    FA32G_EXP(fa32s, FA32G_F, at, c, q, m2, pw)
    return FA32G_FWD_OUT(fa32s, x, m2, pw);
}

FA_INLINE float gelu_fwd32(float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc)
        return fa32g_gelu_fast(x);
    fa32g_tail T = fa32g_tail_parts(x, FA32G_AMAX);
    double m = T.a * T.R;
    double aPhi = FA_MULADD(m, T.e, m) * T.p2; /* a Phi(-a), exact scaling */
    return (float)(x >= 0.0f ? (double)x - aPhi : -aPhi); /* +0 -> +0, -0 -> -0 */
}

FA_INLINE float fa32g_dgelu_fast(float g, float x)
{
    float at = fa32_min(fa32_abs(x), FA32G_FAST_AMAX);
    FA32G_POLY(fa32s, FA32G_B, FA32G_BDEG, at, k, c, d)
    FA32G_EXP(fa32s, FA32G_B, at, c, d, m2, pw)
    return FA32G_BWD_OUT(fa32s, g, x, m2, pw);
}

/* accurate level: g is applied in double before the one rounding, so g * gelu'(x) is right even
 * where gelu'(x) alone would be subnormal in float32. */
FA_INLINE float gelu_bwd32(float g, float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc)
        return fa32g_dgelu_fast(g, x);
    fa32g_tail T = fa32g_tail_parts(x, FA32G_AMAX_BWD);
    double D = FA_MULADD(-T.a, FA_INV_SQRT_2PI, T.R);
    double U = FA_MULADD(D, T.e, D) * T.p2; /* Phi(-a) - a phi(a) */
    return (float)((double)g * (x > 0.0f ? 1.0 - U : U));
}

/* ---- the fast level's vector loops --------------------------------------------------------------
 * _loops.h runs fa32g_{fwd,bwd}_vec_ISA(n, ...) on the contiguous float32 fast-level arrays: it
 * does the whole vectors and returns how many elements it did; the rest goes through the scalar
 * code above (gcc would turn the lookups into gathers, slow on Zen, and never into permutes).
 * Measured (bench/vs_peers.py, one Zen 5 core, torch 2.13 with oneDNN in the same run), Gelem/s
 * at 2^16 / 2^20, standard-normal and uniform[-10, 10] data, degree 5: AVX-512 forward
 * 7.02-7.30 / 6.45-6.82 and 3.85-4.11 / 3.94-4.03 (torch 3.13-3.16 / 4.52-4.83,
 * 3.11-3.27 / 4.51-4.66; two runs), backward 4.63 / 4.48 and 3.11 / 3.13 (torch 1.56 / 2.16,
 * 1.57 / 2.14). Degree 6, in the same session: forward 6.36 / 6.14 and 3.78 / 3.71 (torch
 * 2.92 / 4.77, 2.52 / 4.42), backward 4.36 / 4.00 and 2.93 / 2.85 (torch 1.51 / 2.23,
 * 1.50 / 2.25); session 5: before vrangeps, the magic constant by lookup and the one
 * subtraction below 5.68 / 5.59 and 3.49 / 3.51 forward, the form before the table 2.39 / 2.38
 * and 2.40 / 2.28. Uniform data needs the exp in nearly every vector: 37 vector instructions per
 * 16 lanes (gcc's loop; register copies for the permutes, loads and loop control not counted; 39
 * at degree 6, 19 and 21 without the exp) against oneDNN's ~25 (session 4's count), which is
 * exactly 0 below -5.5 (1.7e7 ulp). In a C harness (the loop alone, 2^20 uniform) every vector
 * instruction saved is worth about 2-3%, whatever its kind: degree 6 -> 5 +6%; the magic
 * constant as a constant (the last two intervals then wrong) +5%, but each correct way of
 * doing without its lookup measured costs nearly as much: a merge-masked u for the lanes below 3
 * with the tables of [3, 13) scaled by 2^-36 +1%, a blend of two constants by the exp mask
 * +1%, a masked subtraction for the lanes below 3 +0%, a second compare and branch for the
 * vectors with a lane beyond 13 +1%, vscalefps in place of the shift and the FMA -1%; r from
 * fma(a, a, 2n ln2_hi) with a 12-bit ln2_hi (no residual of a^2) +1%; two vectors per
 * iteration -3% (register spills). Compacting the lanes that need the exp into a buffer
 * (vcompressps, then vexpandps back) was measured: the compaction alone, with no arithmetic, ran
 * 3.8-4.5 Gelem/s at 2^20 over several runs, and with it the kernel 2.3-3.3; Estrin's scheme
 * for both polynomials was within noise then (session 6), and for the exp's alone +3% / +5%
 * once the masks no longer held a^2 back (session 8, FA32G_EXP). Session 8 also measured: the
 * permutes replaced by as many additions +7%, removed +31% (30 instructions, 2.65 a cycle
 * against 2.5 with them); two vectors per iteration +2% on uniform data and +10% on normal
 * (one branch per 32 lanes), not taken for the code it doubles; the second half of each table
 * read from memory by the permute (7 registers fewer) +0%; gcc's first scheduling pass +0%.
 * AVX2 (FASTACT_ISA=avx2), degree 6: forward 1.40 / 1.39 and 1.04 / 1.02, backward
 * 1.17 / 1.20 and 0.92 / 0.86; degree 5 in the C harness at 2^20 uniform: forward 1.03 -> 1.07.
 * FA_VEC_<name>_<dir>_<suffix> is the hook _loops.h probes for. */
#define FA_VEC_gelu_fwd_ff ~, FA32G_VEC_FWD
#define FA_VEC_gelu_bwd_ff ~, FA32G_VEC_BWD
#define FA32G_VEC_FWD(isa, n, x, y) FA_CAT(fa32g_fwd_vec, isa)(n, x, y)
#define FA32G_VEC_BWD(isa, n, g, x, y) FA_CAT(fa32g_bwd_vec, isa)(n, g, x, y)
FA_INLINE npy_intp fa32g_fwd_vec_baseline(npy_intp n, const float *x, float *y)
{
    (void)n; (void)x; (void)y;
    return 0;
}
FA_INLINE npy_intp fa32g_bwd_vec_baseline(npy_intp n, const float *g, const float *x, float *y)
{
    (void)n; (void)g; (void)x; (void)y;
    return 0;
}

#if FA_X86_DISPATCH
#include <immintrin.h>

/* AVX-512: 16 lanes, a 32-entry table is two registers and one vpermt2ps. */
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4,prefer-vector-width=512")
typedef __m512 fa32z_v;
typedef __m512i fa32z_i;
typedef __mmask16 fa32z_m;
typedef struct { __m512 lo, hi; } fa32z_tab;
#define fa32z_set(c) _mm512_set1_ps(c)
#define fa32z_abs(x) _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)))
#define fa32z_add _mm512_add_ps
#define fa32z_sub _mm512_sub_ps
#define fa32z_mul _mm512_mul_ps
#define fa32z_fma _mm512_fmadd_ps
#define fa32z_fms _mm512_fmsub_ps
#define fa32z_fnma _mm512_fnmadd_ps
#define fa32z_index(TB, v) _mm512_srli_epi32(_mm512_castps_si512(v), 20)
#define fa32z_lut(T, k) _mm512_permutex2var_ps((T).lo, k, (T).hi)
#define fa32z_ge(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)
/* the lanes below 3 are masked late (FA32G_EXP): mg in the magic sum, 0 for r */
#define fa32z_sq_ex(m, a) _mm512_mul_ps(a, a)
#define fa32z_sqlo_ex(m, a, u) _mm512_fmsub_ps(a, a, u)
#define fa32z_magic_ex(m, u, mg) _mm512_mask3_fmadd_ps(u, _mm512_set1_ps(FA32G_NL2E), mg, m)
#define fa32z_sum_ex(m, a, b) _mm512_maskz_add_ps(m, a, b)
#define fa32z_pow2(tm) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(tm), 23))
/* MAG's bits xor the centre's low byte (fa32s_mag): vpternlogd's table for (A & B) ^ C is 0x6a */
#define fa32z_mag(TB, c)                                                                     \
    _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(c), _mm512_set1_epi32(0xff), \
                                                  _mm512_set1_epi32((int)TB##MAGBITS), 0x6a))
/* min(|x|, AMAX) in one vrangeps (imm 0x0a: the smaller magnitude, sign cleared); the same value
 * as the other instruction sets' abs and min (a NaN x's lane is overwritten by x) */
#define fa32z_absmin(x) _mm512_range_ps(x, _mm512_set1_ps(FA32G_FAST_AMAX), 0x0a)
/* -0 > x ? -0 : x, as the scalar; a NaN x comes back as it is (the second operand) */
#define fa32z_xpos(x) _mm512_max_ps(_mm512_set1_ps(-0.0f), x)
/* g ^ (~x & sign): vpternlogd's table for A ^ (~B & C) is 0xd2 */
#define fa32z_flipg(g, x)                                                                    \
    _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(g),                    \
                                                  _mm512_castps_si512(x),                    \
                                                  _mm512_set1_epi32((int)0x80000000u), 0xd2))
/* g, or -0 where x has its sign bit: (g & ~m) | (m & sign), m = x >> 31 (arithmetic): 0xac */
#define fa32z_gpos(g, x)                                                                     \
    _mm512_castsi512_ps(_mm512_ternarylogic_epi32(                                           \
        _mm512_srai_epi32(_mm512_castps_si512(x), 31), _mm512_castps_si512(g),              \
        _mm512_set1_epi32((int)0x80000000u), 0xac))
#define fa32z_fixinf(y, g, x)                                                                \
    _mm512_mask_mov_ps(y, _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(y, g, _CMP_EQ_UQ), x,    \
                                                   _mm512_setzero_ps(), _CMP_GE_OQ), g)
#define FA32Z_TAB(T) {_mm512_loadu_ps(T), _mm512_loadu_ps((T) + 16)}
#define FA32Z_TABS(TB, T)                                                                     \
    const fa32z_tab TB##C = FA32Z_TAB(T##C), TB##P0 = FA32Z_TAB(T##P[0]),                     \
                    TB##P1 = FA32Z_TAB(T##P[1]), TB##P2 = FA32Z_TAB(T##P[2]),                 \
                    TB##P3 = FA32Z_TAB(T##P[3]), TB##P4 = FA32Z_TAB(T##P[4]),                 \
                    TB##P5 = FA32Z_TAB(T##P[T##DEG >= 5 ? 5 : 0]),                            \
                    TB##P6 = FA32Z_TAB(T##P[T##DEG >= 6 ? 6 : 0]);                            \
    (void)TB##P5; (void)TB##P6;                                                               \
    const uint32_t TB##MAGBITS = fa32_to_bits(T##MAG);
static npy_intp fa32g_fwd_vec_avx512(npy_intp n, const float *xp, float *yp)
{
    FA32Z_TABS(tf, FA32G_F)
    npy_intp i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(xp + i), y;
        __m512 at = fa32z_absmin(x);
        /* FA32G_FWD_OUT with the loop's NaN rule folded in: the FMA only where x is a number,
         * elsewhere xpos(x), x itself */
        __mmask16 num = _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q);
        FA32G_POLY(fa32z, tf, FA32G_FDEG, at, k, c, q)
        if (fa32z_ge(_mm512_add_ps(at, _mm512_set1_ps(1.0f)), _mm512_set1_ps(4.0f))) {
            FA32G_EXP(fa32z, tf, at, c, q, m2, pw)
            y = _mm512_mask3_fnmadd_ps(m2, pw, fa32z_xpos(x), num);
        } else {
            /* what FA32G_EXP0 and FA32G_FWD_OUT give, xpos - (q + q) 2^-1 (the forward's
             * power is 2^-1 there), in one subtraction: the FMA's product is q exactly, so the
             * one rounding is the same */
            y = _mm512_mask_sub_ps(x, num, fa32z_xpos(x), q);
        }
        _mm512_storeu_ps(yp + i, y);
    }
    return i;
}
static npy_intp fa32g_bwd_vec_avx512(npy_intp n, const float *gp, const float *xp, float *yp)
{
    FA32Z_TABS(tb, FA32G_B)
    npy_intp i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(xp + i), g = _mm512_loadu_ps(gp + i), y;
        __m512 at = fa32z_absmin(x);
        FA32G_POLY(fa32z, tb, FA32G_BDEG, at, k, c, d)
        if (fa32z_ge(_mm512_add_ps(at, _mm512_set1_ps(1.0f)), _mm512_set1_ps(4.0f))) {
            FA32G_EXP(fa32z, tb, at, c, d, m2, pw)
            y = FA32G_BWD_OUT(fa32z, g, x, m2, pw);
        } else {
            FA32G_EXP0(fa32z, FA32G_B, d, m2, pw)
            y = FA32G_BWD_OUT(fa32z, g, x, m2, pw);
        }
        _mm512_storeu_ps(yp + i, _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x));
    }
    return i;
}
#pragma GCC pop_options

/* AVX2: 8 lanes. Four vpermps and three blends per coefficient (eight coefficients) cost more
 * than the whole rest; instead each lane's row {C, P0, ..., P6} (one 32-byte load, its index read
 * back from memory) and an 8 x 8 transpose (24 shuffles) give all eight at once. */
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
typedef __m256 fa32y_v;
typedef struct { __m256 c[8]; } fa32y_i;   /* the lane's C, P0..P6, transposed */
typedef __m256 fa32y_m;
#define fa32y_set(c) _mm256_set1_ps(c)
#define fa32y_abs(x) _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)))
#define fa32y_add _mm256_add_ps
#define fa32y_sub _mm256_sub_ps
#define fa32y_mul _mm256_mul_ps
#define fa32y_fma _mm256_fmadd_ps
#define fa32y_fms _mm256_fmsub_ps
#define fa32y_fnma _mm256_fnmadd_ps
FA_INLINE fa32y_i fa32y_rows(const float (*R)[8], __m256 v)
{
    int32_t k[8];
    _mm256_storeu_si256((__m256i *)k, _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(v), 20),
                                                       _mm256_set1_epi32(31)));
    __m256 r0 = _mm256_loadu_ps(R[k[0]]), r1 = _mm256_loadu_ps(R[k[1]]);
    __m256 r2 = _mm256_loadu_ps(R[k[2]]), r3 = _mm256_loadu_ps(R[k[3]]);
    __m256 r4 = _mm256_loadu_ps(R[k[4]]), r5 = _mm256_loadu_ps(R[k[5]]);
    __m256 r6 = _mm256_loadu_ps(R[k[6]]), r7 = _mm256_loadu_ps(R[k[7]]);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    fa32y_i K;
    K.c[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    K.c[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    K.c[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    K.c[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    K.c[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    K.c[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    K.c[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    K.c[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
    return K;
}
#define fa32y_index(TB, v) fa32y_rows(TB##R, v)
#define fa32y_lut(T, K) ((K).c[T])
#define fa32y_ge(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define fa32y_sq_ex(m, a) _mm256_and_ps(m, _mm256_mul_ps(a, a))
#define fa32y_sqlo_ex(m, a, u) _mm256_and_ps(m, _mm256_fmsub_ps(a, a, u))
#define fa32y_magic_ex(m, u, mg) _mm256_fmadd_ps(u, _mm256_set1_ps(FA32G_NL2E), mg)
#define fa32y_sum_ex(m, a, b) _mm256_add_ps(a, b)
#define fa32y_pow2(tm) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(tm), 23))
#define fa32y_mag(TB, c)                                                                     \
    _mm256_xor_ps(_mm256_set1_ps(TB##MAG),                                                   \
                  _mm256_and_ps(c, _mm256_castsi256_ps(_mm256_set1_epi32(0xff))))
#define fa32y_xpos(x) _mm256_max_ps(_mm256_set1_ps(-0.0f), x)
#define fa32y_flipg(g, x)                                                                    \
    _mm256_xor_ps(g, _mm256_andnot_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u))))
#define fa32y_gpos(g, x) _mm256_blendv_ps(g, _mm256_set1_ps(-0.0f), x) /* by x's sign bit */
#define fa32y_fixinf(y, g, x)                                                                \
    _mm256_blendv_ps(y, g, _mm256_and_ps(_mm256_cmp_ps(y, g, _CMP_EQ_UQ),                    \
                                         _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ)))
/* the lookups' slots in the transposed row */
#define FA32Y_TABS(TB, T)                                                                     \
    enum { TB##C, TB##P0, TB##P1, TB##P2, TB##P3, TB##P4, TB##P5, TB##P6 };                   \
    const float(*TB##R)[8] = T##R;                                                            \
    const float TB##MAG = T##MAG;
static npy_intp fa32g_fwd_vec_avx2(npy_intp n, const float *xp, float *yp)
{
    FA32Y_TABS(tf, FA32G_F)
    npy_intp i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(xp + i), y;
        __m256 at = _mm256_min_ps(fa32y_abs(x), _mm256_set1_ps(FA32G_FAST_AMAX));
        FA32G_POLY(fa32y, tf, FA32G_FDEG, at, k, c, q)
        if (_mm256_movemask_ps(fa32y_ge(_mm256_add_ps(at, _mm256_set1_ps(1.0f)), _mm256_set1_ps(4.0f)))) {
            FA32G_EXP(fa32y, tf, at, c, q, m2, pw)
            y = FA32G_FWD_OUT(fa32y, x, m2, pw);
        } else {
            y = _mm256_sub_ps(fa32y_xpos(x), q); /* as the AVX-512 loop's */
        }
        _mm256_storeu_ps(yp + i, _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)));
    }
    return i;
}
static npy_intp fa32g_bwd_vec_avx2(npy_intp n, const float *gp, const float *xp, float *yp)
{
    FA32Y_TABS(tb, FA32G_B)
    npy_intp i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(xp + i), g = _mm256_loadu_ps(gp + i), y;
        __m256 at = _mm256_min_ps(fa32y_abs(x), _mm256_set1_ps(FA32G_FAST_AMAX));
        FA32G_POLY(fa32y, tb, FA32G_BDEG, at, k, c, d)
        if (_mm256_movemask_ps(fa32y_ge(_mm256_add_ps(at, _mm256_set1_ps(1.0f)), _mm256_set1_ps(4.0f)))) {
            FA32G_EXP(fa32y, tb, at, c, d, m2, pw)
            y = FA32G_BWD_OUT(fa32y, g, x, m2, pw);
        } else {
            FA32G_EXP0(fa32y, FA32G_B, d, m2, pw)
            y = FA32G_BWD_OUT(fa32y, g, x, m2, pw);
        }
        _mm256_storeu_ps(yp + i, _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)));
    }
    return i;
}
#pragma GCC pop_options
#endif /* FA_X86_DISPATCH */

#endif
