/* Branch-free scalar building blocks for the activation kernels: exp, expm1 and the normal tail.
 *
 * Everything here is written so that gcc vectorizes a loop that calls it: no libm calls (but fma
 * on the baseline build, FA_MULADD below), no branches (only ?: selects), integers built from
 * doubles with the 1.5*2^52 shifter. Results are
 * bit-identical at every vector width because the code is plain IEEE double arithmetic compiled
 * with -ffp-contract=off (no FMA contraction) and without -ffast-math (no reassociation).
 *
 * They serve the float64 kernels (float32 has its own, _f32_*.h): full-length polynomials, and
 * products whose rounding the result is sensitive to (x*x in exp(-x*x/2)) carried in
 * double-double, through FMA.
 */
#ifndef FASTACT_MATH_H
#define FASTACT_MATH_H

#include <stdint.h>
#include <string.h>

/* Every helper is inlined into the loops that are compiled per instruction set, so that it is
 * compiled for that instruction set too (an out-of-line copy would be baseline code). */
#define FA_INLINE static inline __attribute__((always_inline))

FA_INLINE double fa_bits_to_double(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }
FA_INLINE uint64_t fa_double_to_bits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

/* a*b + c rounded once. Polynomials use it: on AVX2 and AVX-512 it is one instruction, and the
 * baseline build calls libm's fma, which rounds the same way (slowly), so results stay identical
 * on every instruction set. Everything else is left unfused by -ffp-contract=off. */
#define FA_MULADD(a, b, c) __builtin_fma((a), (b), (c))

/* NaN-preserving clamps: a comparison with NaN is false, so NaN falls through unchanged. */
FA_INLINE double fa_min(double x, double hi) { return x > hi ? hi : x; }
FA_INLINE double fa_max(double x, double lo) { return x < lo ? lo : x; }
FA_INLINE double fa_abs(double x) { return fa_bits_to_double(fa_double_to_bits(x) & 0x7fffffffffffffffULL); }
FA_INLINE double fa_copysign(double mag, double sign)
{
    return fa_bits_to_double((fa_double_to_bits(mag) & 0x7fffffffffffffffULL) |
                             (fa_double_to_bits(sign) & 0x8000000000000000ULL));
}

/* Adding and subtracting 1.5*2^52 rounds |x| < 2^51 to the nearest integer (ties to even), and
 * leaves that integer in the low bits of the sum. */
#define FA_SHIFTER 6755399441055744.0

/* 2^k for an integer-valued k in [-1022, 1023]. */
FA_INLINE double fa_pow2(double k)
{
    uint64_t bits = fa_double_to_bits(k + FA_SHIFTER) + 1023;
    return fa_bits_to_double(bits << 52);
}

/* m * 2^k for an integer-valued k in [-2040, 2040], rounded once: the first factor keeps m*2^k1
 * normal, so only the second product can round (into the subnormal range, correctly). */
FA_INLINE double fa_scale(double m, double k)
{
    double k1 = (k * 0.5 + FA_SHIFTER) - FA_SHIFTER;
    return m * fa_pow2(k1) * fa_pow2(k - k1);
}

/* The rounding error of hi = a*a, exactly: a*a = hi + lo. */
FA_INLINE double fa_square_lo(double a, double hi) { return FA_MULADD(a, a, -hi); }

#define FA_LOG2E 1.4426950408889634
/* ln 2 split so that n * FA_LN2_HI is exact for |n| < 2^20 (fdlibm's constants). */
#define FA_LN2_HI 6.93147180369123816490e-01
#define FA_LN2_LO 1.90821492927058770002e-10

/* exp(x) - 1 on the reduced argument |r| <= ln2/2, as r + r*r*Q(r). Taylor coefficients 1/k!:
 * the first omitted term, r^14/14!, is below 4.2e-18 (6e-18 relative to e^r). */
FA_INLINE double fa_expm1_reduced(double r)
{
    double q = 1.0 / 6227020800.0;                     /* 1/13! */
    q = FA_MULADD(q, r, 1.0 / 479001600.0);
    q = FA_MULADD(q, r, 1.0 / 39916800.0);
    q = FA_MULADD(q, r, 1.0 / 3628800.0);
    q = FA_MULADD(q, r, 1.0 / 362880.0);
    q = FA_MULADD(q, r, 1.0 / 40320.0);
    q = FA_MULADD(q, r, 1.0 / 5040.0);
    q = FA_MULADD(q, r, 1.0 / 720.0);
    q = FA_MULADD(q, r, 1.0 / 120.0);
    q = FA_MULADD(q, r, 1.0 / 24.0);
    q = FA_MULADD(q, r, 1.0 / 6.0);
    q = FA_MULADD(q, r, 0.5);
    return r + r * r * q;
}

/* exp(x) as m * 2^k with m in [0.7, 1.42], k integer-valued; x is clamped to
 * [-FA_EXP_XMAX, FA_EXP_XMAX], where exp is already 0 or inf once scaled (|k| <= 2020). */
#define FA_EXP_XMAX 1400.0
FA_INLINE double fa_exp_split(double x, double *k)
{
    x = fa_max(fa_min(x, FA_EXP_XMAX), -FA_EXP_XMAX);
    double n = (x * FA_LOG2E + FA_SHIFTER) - FA_SHIFTER;
    double r = (x - n * FA_LN2_HI) - n * FA_LN2_LO;
    *k = n;
    return 1.0 + fa_expm1_reduced(r);
}

FA_INLINE double fa_exp(double x)
{
    double k, m = fa_exp_split(x, &k);
    return fa_scale(m, k);
}

/* expm1(x) for x <= 0 (positive x is treated as 0): 2^n * expm1(r) + (2^n - 1), where 2^n - 1 is
 * exact; below FA_EXPM1_XMIN the result is -1 to double precision (e^-60 < 2^-86). */
#define FA_EXPM1_XMIN -60.0
FA_INLINE double fa_expm1_neg(double x)
{
    double xc = fa_max(fa_min(x, 0.0), FA_EXPM1_XMIN);
    double n = (xc * FA_LOG2E + FA_SHIFTER) - FA_SHIFTER;
    double r = (xc - n * FA_LN2_HI) - n * FA_LN2_LO;
    double p = fa_pow2(n);
    /* the clamp turns -0 into +0; expm1(-0) is -0, so elu(-0) = alpha * -0 keeps its sign (for
     * x > 0, a side the caller discards, this gives +0) */
    return fa_copysign(p * fa_expm1_reduced(r) + (p - 1.0), x);
}

/* The normal tail.  With a = |x|, z = a/sqrt(2) and t = K/(K+z):
 *     Phi(-a) = erfc(z)/2 = exp(-a*a/2) * t * F(t) / 2,
 * where F(t) = erfcx(z)/t is smooth on (0, 1] and fitted by tools/fit_erfcx.py (least squares at
 * Chebyshev nodes in 60-digit arithmetic, evaluated in s = (t - MID)/HALF). Writing erfc through
 * exp(-a*a/2) with a*a exact (double-double) keeps full relative accuracy deep in the tail,
 * where 0.5*(1 + erf(x/sqrt 2)) cancels to 0 and x/sqrt(2) rounded would cost 2*z*z ulps. */

#include "_erfcx_coef.h"   /* FA_ERFCX_K, _MID, _HALF, _C[], by tools/fit_erfcx.py */

#define FA_SQRT1_2 0.70710678118654752440
#define FA_SQRT1_2_LO -4.833646656726457e-17     /* 1/sqrt(2) - FA_SQRT1_2 */
#define FA_INV_SQRT_2PI 0.39894228040143267794

/* Largest |x| whose tail still matters: beyond it Phi(-|x|)*|x| is below the smallest subnormal. */
#define FA_TAIL_XMAX 38.8

typedef struct {
    double a;    /* |x|, clamped to FA_TAIL_XMAX */
    double tF;   /* t * F(t) = erfcx(a / sqrt 2) */
    double m, k; /* exp(-a*a/2) = m * 2^k, kept apart so that a product is rounded only once */
} fa_tail;

FA_INLINE fa_tail fa_normal_tail(double x)
{
    fa_tail T;
    double a = fa_min(fa_abs(x), FA_TAIL_XMAX);
    double z = a * FA_SQRT1_2;
    /* t = K/(K+z) is off by its roundings, which moves the z that t*F(t) = erfcx(z) is taken at
     * by (K+z) ulps. Carry the exact correction: z's own rounding, the rounding of K + z and the
     * division's remainder give T = t + dt, and T*F(T) = t*F(t) + dt*(F + t*F'). */
    double z_lo = FA_MULADD(a, FA_SQRT1_2, -z) + a * FA_SQRT1_2_LO;
    double d = FA_ERFCX_K + z, dv = d - FA_ERFCX_K;
    double d_lo = ((FA_ERFCX_K - (d - dv)) + (z - dv)) + z_lo;
    double t = FA_ERFCX_K / d;
    double dt = (FA_MULADD(-t, d, FA_ERFCX_K) - t * d_lo) / d;
    double s = (t - FA_ERFCX_MID) * (1.0 / FA_ERFCX_HALF);
    double dF = 0.0, F = FA_ERFCX_C[FA_ERFCX_DEGREE];
#pragma GCC unroll 32
    for (int j = FA_ERFCX_DEGREE - 1; j >= 0; j--) {
        dF = FA_MULADD(dF, s, F);
        F = FA_MULADD(F, s, FA_ERFCX_C[j]);
    }
    T.tF = FA_MULADD(t, F, dt * (F + t * dF * (1.0 / FA_ERFCX_HALF)));
    double hi = a * a;          /* a*a = hi + lo, lo = fa_square_lo(a, hi) below */
    T.m = fa_exp_split(-0.5 * hi, &T.k);
    T.m *= 1.0 - 0.5 * fa_square_lo(a, hi);  /* exp(-(hi+lo)/2) = exp(-hi/2)(1 - lo/2), to 2^-106 */
    T.a = a;
    return T;
}

/* sigmoid from E = exp(-|w|) <= 1 and q = 1/(1+E): sigmoid(w) is q for w >= 0 and E*q for w < 0,
 * and 1 - sigmoid(w) is the other one, so neither tail overflows or cancels. E is also kept as
 * m * 2^k so that a product with E can be scaled last (rounded once, even near underflow). */
typedef struct {
    double E, q; /* exp(-|w|), 1/(1+E) */
    double m, k; /* E = m * 2^k */
} fa_sigmoid;

FA_INLINE fa_sigmoid fa_sigmoid_parts(double w, double w_lo)
{
    fa_sigmoid S;
    double aw = w < 0.0 ? -w : w;
    double alo = w < 0.0 ? -w_lo : w_lo;
    S.m = fa_exp_split(-aw, &S.k);
    S.m *= 1.0 - alo;                       /* exp(-(aw + alo)) = exp(-aw)(1 - alo), to 2^-106 */
    S.E = fa_scale(S.m, S.k);
    S.q = 1.0 / (1.0 + S.E);
    return S;
}

/* The tanh form of GELU, x * sigmoid(w) with w = 2*sqrt(2/pi)*(x + 0.044715*x^3).
 * w is carried as w_hi + w_lo: the result's relative error is |w| times w's, and |w| reaches 750. */
#define FA_GELU_C 0.044715
#define FA_2SQRT_2_PI_HI 1.5957691216057308     /* 2*sqrt(2/pi) = HI + LO */
#define FA_2SQRT_2_PI_LO -9.96930880911092e-17
#define FA_TANH_XMAX 25.0 /* beyond: x*sigmoid(w) is x or below the smallest subnormal */

typedef struct {
    double xc;    /* x clamped to +-FA_TANH_XMAX */
    double w;     /* w(xc), whose sign and dw/dx need only double precision */
    double dw;    /* dw/dx */
    fa_sigmoid S; /* sigmoid(w) */
} fa_tanh_form;

FA_INLINE fa_tanh_form fa_gelu_tanh_parts(double x)
{
    fa_tanh_form T;
    double xc = fa_max(fa_min(x, FA_TANH_XMAX), -FA_TANH_XMAX);
    double x2 = xc * xc;
    /* u = 1 + c*x^2 and w = K * xc * u, each product with its exact rounding error */
    double x2lo = fa_square_lo(xc, x2);
    double b = FA_GELU_C * x2;
    double b_lo = FA_MULADD(FA_GELU_C, x2, -b) + FA_GELU_C * x2lo;
    double u = 1.0 + b;                       /* two-sum: |b| may exceed 1 */
    double bv = u - 1.0, u_lo = (1.0 - (u - bv)) + (b - bv) + b_lo;
    double v = xc * u;
    double v_lo = FA_MULADD(xc, u, -v) + xc * u_lo;
    double w_hi = FA_2SQRT_2_PI_HI * v;
    double w_lo = FA_MULADD(FA_2SQRT_2_PI_HI, v, -w_hi) + FA_2SQRT_2_PI_HI * v_lo
                  + FA_2SQRT_2_PI_LO * v;
    T.S = fa_sigmoid_parts(w_hi, w_lo);
    T.xc = xc;
    T.w = w_hi;
    T.dw = FA_2SQRT_2_PI_HI * (1.0 + 3.0 * FA_GELU_C * x2);
    return T;
}

/* log1p(u) for u in [0, 1]: 2*atanh(s) with s = u/(2+u) <= 1/3, as 2s * sum s^2j/(2j+1).
 * Terms fall by 1/9: 17 terms reach 1e-17. */
FA_INLINE double fa_log1p_unit(double u)
{
    double s = u / (2.0 + u), s2 = s * s, p = 1.0 / 33;
    p = FA_MULADD(p, s2, 1.0 / 31); p = FA_MULADD(p, s2, 1.0 / 29); p = FA_MULADD(p, s2, 1.0 / 27);
    p = FA_MULADD(p, s2, 1.0 / 25); p = FA_MULADD(p, s2, 1.0 / 23); p = FA_MULADD(p, s2, 1.0 / 21);
    p = FA_MULADD(p, s2, 1.0 / 19);
    p = FA_MULADD(p, s2, 1.0 / 17); p = FA_MULADD(p, s2, 1.0 / 15); p = FA_MULADD(p, s2, 1.0 / 13);
    p = FA_MULADD(p, s2, 1.0 / 11); p = FA_MULADD(p, s2, 1.0 / 9); p = FA_MULADD(p, s2, 1.0 / 7);
    p = FA_MULADD(p, s2, 1.0 / 5); p = FA_MULADD(p, s2, 1.0 / 3);
    return 2.0 * s + 2.0 * s * (s2 * p);
}

#endif
