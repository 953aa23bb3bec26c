/* Branch-free scalar building blocks for the activation kernels: exp, expm1 and the normal tail.
 *
 * Everything here is written so that gcc vectorizes a loop that calls it: no libm calls, no
 * branches (only ?: selects), integers built from doubles with the 1.5*2^52 shifter. Results are
 * bit-identical at every vector width because the code is plain IEEE double arithmetic compiled
 * with -ffp-contract=off (no FMA contraction) and without -ffast-math (no reassociation).
 *
 * Two precision levels share one code path, chosen by the compile-time constant `f64`:
 *   f64 = 0: float32 results computed in double; polynomials good to ~1e-10 relative, so the final
 *            rounding to float is the only error that matters (<= 1 ulp).
 *   f64 = 1: float64 results; full-length polynomials, and products whose rounding the result is
 *            sensitive to (x*x in exp(-x*x/2)) are carried in double-double, through FMA.
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

/* m * 2^k for an integer-valued k in [-2040, 2040]. For float64 results it is rounded once: the
 * first factor keeps m*2^k1 normal, so only the second product can round (into the subnormal
 * range, correctly). Float32 results, computed in double, need one factor: below 2^-1022 they are
 * 0 in float32 anyway, and every caller's k > 1023 belongs to a discarded branch. */
FA_INLINE double fa_scale(double m, double k, const int f64)
{
    if (!f64)
        return m * fa_pow2(fa_max(fa_min(k, 1023.0), -1022.0));
    double k1 = (k * 0.5 + FA_SHIFTER) - FA_SHIFTER;
    return m * fa_pow2(k1) * fa_pow2(k - k1);
}

/* The rounding error of hi = a*a, exactly: a*a = hi + lo. */
FA_INLINE double fa_square_lo(double a, double hi) { return FA_MULADD(a, a, -hi); }

#define FA_LOG2E 1.4426950408889634
/* ln 2 split so that n * FA_LN2_HI is exact for |n| < 2^20 (fdlibm's constants). */
#define FA_LN2_HI 6.93147180369123816490e-01
#define FA_LN2_LO 1.90821492927058770002e-10

/* exp(x) - 1 - r on the reduced argument |r| <= ln2/2, as r*r*Q(r). Taylor coefficients 1/k!:
 * the first omitted term is below 4e-18 relative at degree 13 (f64) and 2e-10 at degree 9 (f32). */
FA_INLINE double fa_expm1_reduced(double r, const int f64)
{
    double q;
    if (f64) {
        q = 1.0 / 6227020800.0;                       /* 1/13! */
        q = FA_MULADD(q, r, 1.0 / 479001600.0);
        q = FA_MULADD(q, r, 1.0 / 39916800.0);
        q = FA_MULADD(q, r, 1.0 / 3628800.0);
        q = FA_MULADD(q, r, 1.0 / 362880.0);
        q = FA_MULADD(q, r, 1.0 / 40320.0);
    } else {
        q = 1.0 / 362880.0;                           /* 1/9! */
        q = FA_MULADD(q, r, 1.0 / 40320.0);
    }
    q = FA_MULADD(q, r, 1.0 / 5040.0);
    q = FA_MULADD(q, r, 1.0 / 720.0);
    q = FA_MULADD(q, r, 1.0 / 120.0);
    q = FA_MULADD(q, r, 1.0 / 24.0);
    q = FA_MULADD(q, r, 1.0 / 6.0);
    q = FA_MULADD(q, r, 0.5);
    return r + r * r * q;
}

/* exp(x) as m * 2^k with m in [0.7, 1.42], k integer-valued; x is clamped to [-1400, 1400], where
 * exp is already 0 or inf once scaled. */
FA_INLINE double fa_exp_split(double x, double *k, const int f64)
{
    x = fa_max(fa_min(x, 1400.0), -1400.0);
    double n = (x * FA_LOG2E + FA_SHIFTER) - FA_SHIFTER;
    double r = (x - n * FA_LN2_HI) - n * FA_LN2_LO;
    *k = n;
    return 1.0 + fa_expm1_reduced(r, f64);
}

FA_INLINE double fa_exp(double x, const int f64)
{
    double k, m = fa_exp_split(x, &k, f64);
    return fa_scale(m, k, f64);
}

/* expm1(x) for x <= 0 (positive x is treated as 0): 2^n * expm1(r) + (2^n - 1), where 2^n - 1 is
 * exact; below -60 the result is -1 to double precision. */
FA_INLINE double fa_expm1_neg(double x, const int f64)
{
    double xc = fa_max(fa_min(x, 0.0), -60.0);
    double n = (xc * FA_LOG2E + FA_SHIFTER) - FA_SHIFTER;
    double r = (xc - n * FA_LN2_HI) - n * FA_LN2_LO;
    double p = fa_pow2(n);
    /* the clamp turns -0 into +0; expm1(-0) is -0, so elu(-0) = alpha * -0 keeps its sign (for
     * x > 0, a side the caller discards, this gives +0) */
    return fa_copysign(p * fa_expm1_reduced(r, f64) + (p - 1.0), x);
}

/* The normal tail.  With a = |x|, z = a/sqrt(2) and t = K/(K+z):
 *     Phi(-a) = erfc(z)/2 = exp(-a*a/2) * t * F(t) / 2,
 * where F(t) = erfcx(z)/t is smooth on (0, 1] and fitted by tools/fit_erfcx.py (least squares at
 * Chebyshev nodes in 60-digit arithmetic, evaluated in s = (t - MID)/HALF). Writing erfc through
 * exp(-a*a/2) with a*a exact (double-double for f64) keeps full relative accuracy deep in the tail,
 * where 0.5*(1 + erf(x/sqrt 2)) cancels to 0 and x/sqrt(2) rounded would cost 2*z*z ulps. */

/* F32: t = 3/(3+z), z in [0, 10.5], degree 11, max rel. error of the rounded polynomial 4.7e-11 */
#define F32_K 3.0
#define F32_MID 0.6111111111111112
#define F32_HALF 0.3888888888888889
static const double F32_C[12] = {0.4343922359873651, 0.3104060781929545, 0.16847243252693997, 0.0673490180635905, 0.017955963346851875, 0.0020706193799833457, -0.00047144796070182804, -0.0001953061816983232, 7.616092610139757e-06, 1.364886665642273e-05, -2.557008338023259e-08, -8.327672725272714e-07};
/* F64: t = 4/(4+z), z in [0, 27.5], degree 22, max rel. error of the rounded polynomial 3.4e-16 */
#define F64_K 4.0
#define F64_MID 0.5634920634920635
#define F64_HALF 0.4365079365079365
static const double F64_C[23] = {0.3084173454076571, 0.26234889379965115, 0.19342357408821997, 0.12315157869626908, 0.06706456666045087, 0.030660706119341463, 0.011356078820035793, 0.0031514918347939395, 0.0005098156358559018, -3.3254249843697154e-05, -4.4606216435310036e-05, -8.742137319530205e-06, 1.6016867024894598e-06, 1.022619829194822e-06, 2.0315431140843075e-08, -9.053989361661354e-08, -1.1236922775780076e-08, 7.93576727251119e-09, 1.5697621533303365e-09, -7.014804691549072e-10, -1.6478121822764402e-10, 4.596444135164215e-11, 1.0944670421443823e-11};

#define FA_SQRT1_2 0.70710678118654752440
#define FA_SQRT1_2_LO -4.833646656726457e-17     /* 1/sqrt(2) - FA_SQRT1_2 */
#define FA_INV_SQRT_2PI 0.39894228040143267794

/* Largest |x| whose tail still matters: beyond it Phi(-|x|)*|x| is below the smallest subnormal. */
#define FA_TAIL_XMAX(f64) ((f64) ? 38.8 : 14.8)

typedef struct {
    double a;    /* |x|, clamped to FA_TAIL_XMAX */
    double tF;   /* t * F(t) = erfcx(a / sqrt 2) */
    double m, k; /* exp(-a*a/2) = m * 2^k, kept apart so that a product is rounded only once */
} fa_tail;

FA_INLINE fa_tail fa_normal_tail(double x, const int f64)
{
    fa_tail T;
    double a = fa_min(fa_abs(x), FA_TAIL_XMAX(f64));
    double z = a * FA_SQRT1_2;
    double t, s, F;
    if (f64) {
        /* t = K/(K+z) is off by its roundings, which moves the z that t*F(t) = erfcx(z) is
         * taken at by (K+z) ulps. Carry the exact correction: z's own rounding, the rounding of
         * K + z and the division's remainder give T = t + dt, and T*F(T) = t*F(t) +
         * dt*(F + t*F'). */
        double z_lo = FA_MULADD(a, FA_SQRT1_2, -z) + a * FA_SQRT1_2_LO;
        double d = F64_K + z, dv = d - F64_K;
        double d_lo = ((F64_K - (d - dv)) + (z - dv)) + z_lo;
        t = F64_K / d;
        double dt = (FA_MULADD(-t, d, F64_K) - t * d_lo) / d;
        s = (t - F64_MID) * (1.0 / F64_HALF);
        double dF = 0.0;
        F = F64_C[22];
#pragma GCC unroll 32
        for (int j = 21; j >= 0; j--) {
            dF = FA_MULADD(dF, s, F);
            F = FA_MULADD(F, s, F64_C[j]);
        }
        T.tF = FA_MULADD(t, F, dt * (F + t * dF * (1.0 / F64_HALF)));
    } else {
        t = F32_K / (F32_K + z);
        s = (t - F32_MID) * (1.0 / F32_HALF);
        F = F32_C[11];
#pragma GCC unroll 32
        for (int j = 10; j >= 0; j--) F = FA_MULADD(F, s, F32_C[j]);
        T.tF = t * F;
    }
    double hi = a * a;          /* exact when a came from a float */
    T.m = fa_exp_split(-0.5 * hi, &T.k, f64);
    if (f64)                    /* exp(-(hi+lo)/2) = exp(-hi/2) * (1 - lo/2) to within 2^-106 */
        T.m *= 1.0 - 0.5 * fa_square_lo(a, hi);
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

FA_INLINE fa_sigmoid fa_sigmoid_parts(double w, double w_lo, const int f64)
{
    fa_sigmoid S;
    double aw = w < 0.0 ? -w : w;
    double alo = w < 0.0 ? -w_lo : w_lo;
    S.m = fa_exp_split(-aw, &S.k, f64);
    if (f64)
        S.m *= 1.0 - alo;
    S.E = fa_scale(S.m, S.k, f64);
    S.q = 1.0 / (1.0 + S.E);
    return S;
}

/* The tanh form of GELU, x * sigmoid(w) with w = 2*sqrt(2/pi)*(x + 0.044715*x^3).
 * For f64, w is carried as w_hi + w_lo: the result's relative error is |w| times w's, and |w|
 * reaches 750. */
#define FA_GELU_C 0.044715
#define FA_2SQRT_2_PI_HI 1.5957691216057308     /* 2*sqrt(2/pi) = HI + LO */
#define FA_2SQRT_2_PI_LO -9.96930880911092e-17
#define FA_TANH_XMAX(f64) ((f64) ? 25.0 : 12.0) /* beyond: x*sigmoid(w) is x or below subnormal */

typedef struct {
    double xc;    /* x clamped to +-FA_TANH_XMAX */
    double w;     /* w(xc), whose sign and dw/dx need only double precision */
    double dw;    /* dw/dx */
    fa_sigmoid S; /* sigmoid(w) */
} fa_tanh_form;

FA_INLINE fa_tanh_form fa_gelu_tanh_parts(double x, const int f64)
{
    fa_tanh_form T;
    double xm = FA_TANH_XMAX(f64);
    double xc = fa_max(fa_min(x, xm), -xm);
    double x2 = xc * xc;
    double w_hi, w_lo;
    if (f64) {
        /* u = 1 + c*x^2 and w = K * xc * u, each product with its exact rounding error */
        double x2lo = fa_square_lo(xc, x2);
        double b = FA_GELU_C * x2;
        double b_lo = FA_MULADD(FA_GELU_C, x2, -b) + FA_GELU_C * x2lo;
        double u = 1.0 + b;                       /* two-sum: |b| may exceed 1 */
        double bv = u - 1.0, u_lo = (1.0 - (u - bv)) + (b - bv) + b_lo;
        double v = xc * u;
        double v_lo = FA_MULADD(xc, u, -v) + xc * u_lo;
        w_hi = FA_2SQRT_2_PI_HI * v;
        w_lo = FA_MULADD(FA_2SQRT_2_PI_HI, v, -w_hi) + FA_2SQRT_2_PI_HI * v_lo
               + FA_2SQRT_2_PI_LO * v;
    } else {
        w_hi = FA_2SQRT_2_PI_HI * xc * (1.0 + FA_GELU_C * x2);
        w_lo = 0.0;
    }
    T.S = fa_sigmoid_parts(w_hi, w_lo, f64);
    T.xc = xc;
    T.w = w_hi;
    T.dw = FA_2SQRT_2_PI_HI * (1.0 + 3.0 * FA_GELU_C * x2);
    return T;
}

/* log1p(u) for u in [0, 1]: 2*atanh(s) with s = u/(2+u) <= 1/3, as 2s * sum s^2j/(2j+1).
 * Terms fall by 1/9: 17 terms reach 1e-17 (f64), 10 reach 1e-10 (f32). */
FA_INLINE double fa_log1p_unit(double u, const int f64)
{
    double s = u / (2.0 + u), s2 = s * s, p;
    if (f64) {
        p = 1.0 / 33;
        p = FA_MULADD(p, s2, 1.0 / 31); p = FA_MULADD(p, s2, 1.0 / 29); p = FA_MULADD(p, s2, 1.0 / 27);
        p = FA_MULADD(p, s2, 1.0 / 25); p = FA_MULADD(p, s2, 1.0 / 23); p = FA_MULADD(p, s2, 1.0 / 21);
        p = FA_MULADD(p, s2, 1.0 / 19);
    } else {
        p = 1.0 / 19;
    }
    p = FA_MULADD(p, s2, 1.0 / 17); p = FA_MULADD(p, s2, 1.0 / 15); p = FA_MULADD(p, s2, 1.0 / 13);
    p = FA_MULADD(p, s2, 1.0 / 11); p = FA_MULADD(p, s2, 1.0 / 9); p = FA_MULADD(p, s2, 1.0 / 7);
    p = FA_MULADD(p, s2, 1.0 / 5); p = FA_MULADD(p, s2, 1.0 / 3);
    return 2.0 * s + 2.0 * s * (s2 * p);
}

#endif
