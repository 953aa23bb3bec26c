/* fastact kernel source: the activation formulas and the table that stamps out their loops.
 *
 * Adding an activation: write its forward and backward below (a native-type expression: kind
 * NATIVE if it is exact in the input's type, WIDE if float32 should run it in double at the
 * accurate level; or, kind MATH, a double function for float64 built from _math.h, plus its
 * float32 NAME_fwd32/bwd32 at both precision levels in an _f32_*.h header, see _f32_exp.h), add one line
 * to FASTACT_KERNELS, then describe its Python face in fastact/_table.py and its record (float64
 * reference, derivative, test parameters, peers) in fastact/testing.py. README: Contributing.
 *
 * Conventions shared by every kernel:
 *   - fwd(x, p0, p1) and bwd(grad_output, x, p0, p1); p0, p1 are the scalar parameters in
 *     _table.py order (unused ones are 0).
 *   - Kinks follow PyTorch: the derivative at a kink is the left one where PyTorch takes it
 *     (relu'(0) = 0, leaky_relu'(0) = negative_slope, elu'(0) = alpha).
 *   - backward is NaN wherever x is NaN (applied once, in the loop); otherwise it is
 *     grad_output * f'(x), with exact zeros where f'(x) is 0. The forward's NaN rule is the
 *     loop's too, except for NATIVE kernels and WIDE's fast level, whose formulas pass NaN
 *     through themselves.
 */
#ifndef FASTACT_KERNELS_H
#define FASTACT_KERNELS_H

#include <Python.h>
#include <numpy/ndarraytypes.h>
#include <fenv.h>
#include "_math.h"

/* x86-64 with gcc: the loops are compiled three times (#pragma GCC target) and the widest level
 * the CPU has is picked at import (__builtin_cpu_supports). Everywhere else (aarch64, clang, or
 * -DFASTACT_NO_X86_DISPATCH, which builds an x86 machine the way a non-x86 one is built, to test
 * that build) only the baseline loops are compiled, for the compiler's default target, and the
 * floating-point status is kept with <fenv.h> instead of the SSE control register. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(FASTACT_NO_X86_DISPATCH)
#define FA_X86_DISPATCH 1
#include <xmmintrin.h>
#else
#define FA_X86_DISPATCH 0
#endif

/* ---- formulas --------------------------------------------------------------------------- */

/* Native-type formulas: exact in the input's own precision, so float32 stays float32 wide. Their
 * forward must pass a NaN x through by itself (the loop does not test for it): every comparison
 * with NaN is false, so `x < lo ? lo : x` keeps x, and that exact form is what gcc turns into one
 * vmaxps (the x86 instruction's own NaN rule); a test for NaN first cost 3x in relu6/hardtanh. */
#define relu_FWD(T, x, p0, p1) ((x) < 0 ? (T)0 : (x))
#define relu_BWD(T, g, x, p0, p1) ((x) > 0 ? (g) : (T)0)

#define leaky_relu_FWD(T, x, p0, p1) ((x) > 0 ? (x) : (x) * (p0))
#define leaky_relu_BWD(T, g, x, p0, p1) ((x) > 0 ? (g) : (g) * (p0))

/* float64 formulas (kind MATH; float32 has its own, _f32_*.h): each forward beside its
 * derivative and, where f'(x) is a function of the output y alone (table: OWN), the backward from
 * the output (name_bwo), for training loops that overwrite x with f(x). SAME in the table: the
 * x-formula applied to y gives the same result (relu, leaky_relu with a positive slope, hardtanh,
 * relu6). */
FA_INLINE double elu_fwd(double x, double alpha, double unused)
{
    (void)unused;
    return x > 0 ? x : alpha * fa_expm1_neg(x);
}
/* g * alpha * exp(x) with exp(x) = m * 2^k scaled last: alpha * exp(x) alone may be subnormal
 * (x = -712) while the product with a large alpha or g is normal (it lost 30 ulp that way). */
FA_INLINE double elu_bwd(double g, double x, double alpha, double unused)
{
    (void)unused;
    double k, m = fa_exp_split(fa_min(x, 0.0), &k);
    return x > 0 ? g : fa_scale((g * alpha) * m, k);
}
FA_INLINE double elu_bwo(double g, double y, double alpha, double unused)
{ (void)unused; return y > 0 ? g : g * (y + alpha); }

/* gelu(x) = x * Phi(x); Phi(x) = 1 - Phi(-x) for x >= 0. For x < 0 the whole product is scaled
 * by 2^k last, so a normal result is never built from a subnormal Phi. */
FA_INLINE double gelu_fwd(double x, double p0, double p1)
{
    (void)p0; (void)p1;
    fa_tail T = fa_normal_tail(x);
    double lead = x < 0 ? fa_max(x, -FA_TAIL_XMAX) : 1.0;
    double s = fa_scale(lead * 0.5 * T.tF * T.m, T.k);
    return x < 0 ? s : x * (1.0 - s);
}
/* gelu'(x) = Phi(x) + x*phi(x). With a = |x|: x < 0 gives Phi(-a) - a*phi(a), x >= 0 gives
 * 1 - (Phi(-a) - a*phi(a)); both share exp(-a*a/2). */
FA_INLINE double gelu_bwd(double g, double x, double p0, double p1)
{
    (void)p0; (void)p1;
    fa_tail T = fa_normal_tail(x);
    double d = (0.5 * T.tF - T.a * FA_INV_SQRT_2PI) * T.m;
    return x < 0 ? fa_scale(g * d, T.k) : g * (1.0 - fa_scale(d, T.k));
}

/* gelu_tanh(x) = x * sigmoid(w), sigmoid through fa_sigmoid_parts. */
FA_INLINE double gelu_tanh_fwd(double x, double p0, double p1)
{
    (void)p0; (void)p1;
    fa_tanh_form P = fa_gelu_tanh_parts(x);
    return P.w < 0 ? fa_scale(P.xc * P.S.m * P.S.q, P.S.k) : x * P.S.q;
}
/* d/dx x*sigmoid(w) = sigmoid(w) * (1 + x * (1 - sigmoid(w)) * dw/dx) */
FA_INLINE double gelu_tanh_bwd(double g, double x, double p0, double p1)
{
    (void)p0; (void)p1;
    fa_tanh_form P = fa_gelu_tanh_parts(x);
    double E = P.S.E, q = P.S.q;
    return P.w < 0 ? fa_scale(g * (P.S.m * q * (1.0 + P.xc * q * P.dw)), P.S.k)
                   : g * (q * (1.0 + P.xc * E * q * P.dw));
}

/* Hard functions: torch's expressions, in the input's own precision (float32 stays 16 wide),
 * except hardswish: reordered (below), and kind WIDE (in double at the accurate level). */
/* min(max(v, lo), hi) as two selects that gcc emits as vmaxps and vminps; NaN passes */
#define FA_CLAMP(T, v, lo, hi) ({ T v_ = (v); v_ = v_ < (lo) ? (lo) : v_; v_ > (hi) ? (hi) : v_; })
/* clamp to [0, 6] with the bounds taken from `zero`, an unused parameter (always 0, see the
 * conventions at the top): with the constants themselves gcc folds the two selects into three
 * compares, a mask operation and two blends (relu6 at 1M elements: 12.5 Gelem/s against 15.2 for
 * relu), where bounds it cannot see give vmaxps and vminps. */
#define FA_CLAMP06(T, v, zero) FA_CLAMP(T, v, (zero), (zero) + 6)
#define relu6_FWD(T, x, p0, p1) FA_CLAMP06(T, x, p0)
#define relu6_BWD(T, g, x, p0, p1) (((x) <= 0 || (x) >= 6) ? (T)0 : (g))
#define hardtanh_FWD(T, x, p0, p1) FA_CLAMP(T, x, p0, p1)
#define hardtanh_BWD(T, g, x, p0, p1) (((x) <= (p0) || (x) >= (p1)) ? (T)0 : (g))
#define hardsigmoid_FWD(T, x, p0, p1) (FA_CLAMP06(T, (x) + 3, p0) / (T)6)
#define hardsigmoid_BWD(T, g, x, p0, p1) (((x) > -3 && (x) < 3) ? (g) * (T)(1.0 / 6.0) : (T)0)
FA_INLINE double hardsigmoid_bwo(double g, double y, double p0, double p1)
{ (void)p0; (void)p1; return (y > 0.0 && y < 1.0) ? g * (1.0 / 6.0) : 0.0; }
/* x * (clamp / 6), not (x * clamp) / 6 as torch has it: that overflows for x > FLT_MAX / 6 */
#define hardswish_FWD(T, x, p0, p1) ((x) * (FA_CLAMP06(T, (x) + 3, p0) / (T)6))
/* x/3 + 1/2 written as (2x + 3)/6: near x = -1.5, 2x + 3 is exact where x/3 + 0.5 cancels.
 * float32 divides by 6 without a division (fa32_div6, below). */
#define hardswish_BWD(T, g, x, p0, p1)                                                          \
    ((x) < -3 ? (T)0 : (g) * ((x) <= 3 ? FA_DIV6(T, 2 * (x) + 3) : (T)1))
#define FA_DIV6(T, t) (sizeof(T) == sizeof(float) ? (T)fa32_div6((float)(t)) : (t) / (T)6)

/* SELU's constants, as torch.nn.functional writes them. */
#define FA_SELU_ALPHA 1.6732632423543772848170429916717
#define FA_SELU_SCALE 1.0507009873554804934193349852946
FA_INLINE double selu_fwd(double x, double p0, double p1)
{
    (void)p0; (void)p1;
    return x > 0 ? FA_SELU_SCALE * x : (FA_SELU_SCALE * FA_SELU_ALPHA) * fa_expm1_neg(x);
}
FA_INLINE double selu_bwd(double g, double x, double p0, double p1)
{
    (void)p0; (void)p1;
    double k, m = fa_exp_split(fa_min(x, 0.0), &k);
    return x > 0 ? g * FA_SELU_SCALE : fa_scale((g * (FA_SELU_SCALE * FA_SELU_ALPHA)) * m, k);
}
FA_INLINE double selu_bwo(double g, double y, double p0, double p1)
{
    (void)p0; (void)p1;
    return y > 0 ? g * FA_SELU_SCALE : g * (y + FA_SELU_SCALE * FA_SELU_ALPHA);
}

/* celu(x) = x if x > 0 else alpha * expm1(x / alpha), alpha > 0; where |x / alpha| < 2^-60 the
 * result rounds to x (x (1 + q/2 + ...)), also where q is subnormal or 0 though x is not */
FA_INLINE double celu_fwd(double x, double alpha, double unused)
{
    (void)unused;
    double q = x / alpha;
    return (x > 0) | (fa_abs(q) < 0x1p-60) ? x : alpha * fa_expm1_neg(q);
}
FA_INLINE double celu_bwd(double g, double x, double alpha, double unused)
{
    (void)unused;
    /* x / alpha = q + lo exactly (the FMA gives the division's remainder): exp multiplies the
     * quotient's rounding error by |q|, 6 ulp at celu'(-58) with alpha = 3 */
    double q = x / alpha;
    double lo = fa_abs(q) < 1e300 ? FA_MULADD(-q, alpha, x) / alpha : 0.0;
    double k, m = fa_exp_split(fa_min(q, 0.0), &k);
    return x > 0 ? g : fa_scale(g * (m + m * lo), k);
}
FA_INLINE double celu_bwo(double g, double y, double alpha, double unused)
{ (void)unused; return y > 0 ? g : g * (y / alpha + 1.0); }

/* sigmoid'(x) = E/(1+E)^2 for either sign, scaled last. In every backward below the 2^k of a
 * tail is applied after the multiply by grad_output: the derivative alone may be subnormal where
 * g * f'(x) is normal (tanh'(357) * 68 lost 20 ulp in float64 that way). */
FA_INLINE double sigmoid_fwd(double x, double p0, double p1)
{
    (void)p0; (void)p1;
    fa_sigmoid S = fa_sigmoid_parts(x, 0.0);
    return x < 0 ? fa_scale(S.m * S.q, S.k) : S.q;
}
FA_INLINE double sigmoid_bwd(double g, double x, double p0, double p1)
{
    (void)p0; (void)p1;
    fa_sigmoid S = fa_sigmoid_parts(x, 0.0);
    return fa_scale(g * (S.m * S.q * S.q), S.k);
}
FA_INLINE double sigmoid_bwo(double g, double y, double p0, double p1)
{ (void)p0; (void)p1; return g * (y * (1.0 - y)); }

/* silu(x) = x * sigmoid(x); silu' = sigmoid(x) * (1 + x * (1 - sigmoid(x))). */
FA_INLINE double silu_fwd(double x, double p0, double p1)
{
    (void)p0; (void)p1;
    fa_sigmoid S = fa_sigmoid_parts(x, 0.0);
    return x < 0 ? fa_scale(fa_max(x, -FA_EXP_XMAX) * S.m * S.q, S.k) : x * S.q;
}
FA_INLINE double silu_bwd(double g, double x, double p0, double p1)
{
    (void)p0; (void)p1;
    fa_sigmoid S = fa_sigmoid_parts(x, 0.0);
    double xc = fa_max(fa_min(x, FA_EXP_XMAX), -FA_EXP_XMAX);
    return x < 0 ? fa_scale(g * (S.m * S.q * (1.0 + xc * S.q)), S.k)
                 : g * (S.q * (1.0 + xc * S.E * S.q));
}

/* tanh(x) = -em/(2 + em) with em = expm1(-2|x|), the sign of x; tanh' = 4E/(1+E)^2, E = exp(-2|x|). */
FA_INLINE double tanh_fwd(double x, double p0, double p1)
{
    (void)p0; (void)p1;
    double em = fa_expm1_neg(-2.0 * fa_abs(x));
    return fa_copysign(-em / (2.0 + em), x);
}
FA_INLINE double tanh_bwd(double g, double x, double p0, double p1)
{
    (void)p0; (void)p1;
    double k, m = fa_exp_split(-2.0 * fa_abs(x), &k);
    double E = fa_scale(m, k);
    return fa_scale(g * (4.0 * m / ((1.0 + E) * (1.0 + E))), k);
}
FA_INLINE double tanh_bwo(double g, double y, double p0, double p1)
{ (void)p0; (void)p1; return g * ((1.0 - y) * (1.0 + y)); }

/* mish(x) = x * tanh(softplus(x)). With E = exp(-|x|) <= 1 and D the denominator:
 *   x <= 0: tanh(softplus(x)) = E(2+E) / (2 + 2E + E^2)
 *   x >  0: tanh(softplus(x)) = (1+2E) / (1 + 2E + 2E^2)
 * and mish'(x) = tanh(softplus(x)) + x * sech^2(softplus(x)) * sigmoid(x), which is
 *   x <= 0: E(2+E)/D + 4x(1+E)E/D^2,   x > 0: (1+2E)/D + 4x(1+E)E^2/D^2. */
FA_INLINE double mish_fwd(double x, double p0, double p1)
{
    (void)p0; (void)p1;
    double k, m = fa_exp_split(-fa_abs(x), &k);
    double E = fa_scale(m, k);
    double neg = fa_scale(fa_max(x, -FA_EXP_XMAX) * m * (2.0 + E) / (2.0 + 2.0 * E + E * E), k);
    return x <= 0 ? neg : x * (1.0 + 2.0 * E) / (1.0 + 2.0 * E + 2.0 * E * E);
}
FA_INLINE double mish_bwd(double g, double x, double p0, double p1)
{
    (void)p0; (void)p1;
    double k, m = fa_exp_split(-fa_abs(x), &k);
    double E = fa_scale(m, k);
    double xc = fa_max(fa_min(x, FA_EXP_XMAX), -FA_EXP_XMAX);
    double Dn = 2.0 + 2.0 * E + E * E, Dp = 1.0 + 2.0 * E + 2.0 * E * E;
    double neg = fa_scale(g * (m * ((2.0 + E) / Dn + 4.0 * xc * (1.0 + E) / (Dn * Dn))), k);
    double pos = (1.0 + 2.0 * E) / Dp + 4.0 * xc * (1.0 + E) * E * E / (Dp * Dp);
    return x <= 0 ? neg : g * pos;
}

/* softplus(x) = x if beta*x > threshold else log1p(exp(beta*x)) / beta, with
 * log1p(exp(b)) = max(b, 0) + log1p(exp(-|b|)); softplus' = sigmoid(beta*x). */
/* Whether softplus is on its linear part: beta * x > threshold, also where the product
 * overflows (then its sign, against a threshold of -inf, decides; an infinite x is exact). */
FA_INLINE int fa_softplus_linear(double b, double x, double threshold)
{
    /* bitwise & and |, not && and ||: the short-circuit branches stop gcc vectorizing the loop */
    int overflow = (fa_abs(b) == __builtin_inf()) & (fa_abs(x) != __builtin_inf());
    return (b > threshold) | (overflow & ((b > 0) | (threshold == -__builtin_inf())));
}
FA_INLINE double softplus_fwd(double x, double beta, double threshold)
{
    double b = beta * x;
    fa_sigmoid S = fa_sigmoid_parts(b, 0.0);
    double lp = fa_log1p_unit(S.E);
    return fa_softplus_linear(b, x, threshold) ? x : ((b > 0 ? b : 0.0) + lp) / beta;
}
FA_INLINE double softplus_bwd(double g, double x, double beta, double threshold)
{
    double b = beta * x;
    fa_sigmoid S = fa_sigmoid_parts(b, 0.0);
    return fa_softplus_linear(b, x, threshold) ? g
           : (b < 0 ? fa_scale(g * (S.m * S.q), S.k) : g * S.q);
}
/* sigmoid(beta*x) = 1 - exp(-beta*y), since exp(beta*y) = 1 + exp(beta*x). The curve reaches
 * beta*y = log1p(exp(threshold)) before the linear part takes over, so above that y is x itself;
 * below it, a y from the linear part's first e^-threshold is read as the curve's. */
FA_INLINE double softplus_bwo(double g, double y, double beta, double threshold)
{
    double top = fa_max(threshold, 0.0) + fa_log1p_unit(fa_exp(-fa_abs(threshold)));
    return beta * y > top ? g : -g * fa_expm1_neg(-beta * y);
}

/* float32 formulas, at two precision levels (see _f32_exp.h) */
#include "_f32_exp.h"
#include "_f32_tanh.h"
#include "_f32_gelu.h"

/* t / 6 in float32 as q = t * RN(1/6) corrected by its exact residual t - 6q: the bits of t / 6
 * for every t with |t| >= 2^-100 or t = +0 (all such float32 in (-3, 9) compared, which covers
 * hardswish's 2x + 3: it is +0 or at least 2^-22 in magnitude; tests/test_semantics.py checks
 * the kernel against NumPy's division). A multiply and two FMAs instead of vdivps, which bound
 * hardswish' at 9.1 Gelem/s on 65,536 elements on one Zen 5 core against relu' 15.5. */
FA_INLINE float fa32_div6(float t)
{
    const float c = 1.0f / 6.0f;
    float q = t * c;
    return fa32_fma(fa32_fma(-q, 6.0f, t), c, q);
}

/* ---- the table -------------------------------------------------------------------------- */
/* X(name, number of scalar parameters, kind, whether integer inputs keep their dtype (the result
 * is computed exactly in the integer type), backward from the output: OWN formula, SAME as from
 * x, or NONE). kind NATIVE: one exact formula in the input's own type, the same at both
 * precision levels. kind WIDE: a formula in the input's own type at the fast level, which
 * float32 evaluates in double at the accurate level (rounded once). kind MATH: float32 through name_fwd32/bwd32/bwo32 (_f32_*.h) at the fast and
 * the accurate level, float64 through the double formulas above (always accurate). */
#define FASTACT_KERNELS(X)                        \
    X(relu, 0, NATIVE, 1, SAME)                   \
    X(leaky_relu, 1, NATIVE, 0, SAME)             \
    X(elu, 1, MATH, 0, OWN)                 \
    X(gelu, 0, MATH, 0, NONE)               \
    X(gelu_tanh, 0, MATH, 0, NONE)          \
    X(silu, 0, MATH, 0, NONE)               \
    X(mish, 0, MATH, 0, NONE)               \
    X(softplus, 2, MATH, 0, OWN)            \
    X(selu, 0, MATH, 0, OWN)                \
    X(celu, 1, MATH, 0, OWN)                \
    X(hardsigmoid, 0, NATIVE, 0, OWN)             \
    X(hardswish, 0, WIDE, 0, NONE)                \
    X(hardtanh, 2, NATIVE, 0, SAME)               \
    X(relu6, 0, NATIVE, 0, SAME)                  \
    X(sigmoid, 0, MATH, 0, OWN)             \
    X(tanh, 0, MATH, 0, OWN)

/* ---- per-type scalar entry points --------------------------------------------------------- */
/* Suffixes: _f float32 accurate, _ff float32 fast, _d float64. NATIVE kernels have no _ff: both
 * levels run the _f loops. */
/* A native formula in type T, as fwd/bwd entry points with suffix S (T's own type, or float
 * computed as double and rounded once: FA_NATIVE_SCALARS(name, S, float, double)). */
#define FA_NATIVE_SCALARS(name, S, T, CT)                                                        \
    FA_INLINE T name##_fwd_##S(T x, T p0, T p1)                                                  \
    { (void)p0; (void)p1; return (T)name##_FWD(CT, (CT)x, (CT)p0, (CT)p1); }                    \
    FA_INLINE T name##_bwd_##S(T g, T x, T p0, T p1)                                             \
    { (void)p0; (void)p1; return (T)name##_BWD(CT, (CT)g, (CT)x, (CT)p0, (CT)p1); }
#define FA_SCALARS_NATIVE(name)                                                                  \
    FA_NATIVE_SCALARS(name, f, float, float) FA_NATIVE_SCALARS(name, d, double, double)
/* float32 hardswish rounds three times (x + 3, / 6, * x): 1.87 ulp at the fast level; the
 * accurate level computes the same formula in double and rounds once. */
#define FA_SCALARS_WIDE(name)                                                                    \
    FA_NATIVE_SCALARS(name, ff, float, float) FA_NATIVE_SCALARS(name, f, float, double)          \
    FA_NATIVE_SCALARS(name, d, double, double)
#define FA_SCALARS_MATH(name)                                                                    \
    FA_INLINE float name##_fwd_f(float x, float p0, float p1)                                    \
    { return name##_fwd32(x, p0, p1, 1); }                                                      \
    FA_INLINE float name##_fwd_ff(float x, float p0, float p1)                                   \
    { return name##_fwd32(x, p0, p1, 0); }                                                      \
    FA_INLINE double name##_fwd_d(double x, double p0, double p1)                                \
    { return name##_fwd(x, p0, p1); }                                                        \
    FA_INLINE float name##_bwd_f(float g, float x, float p0, float p1)                           \
    { return name##_bwd32(g, x, p0, p1, 1); }                                                   \
    FA_INLINE float name##_bwd_ff(float g, float x, float p0, float p1)                          \
    { return name##_bwd32(g, x, p0, p1, 0); }                                                   \
    FA_INLINE double name##_bwd_d(double g, double x, double p0, double p1)                      \
    { return name##_bwd(g, x, p0, p1); }
#define FA_BWO_SCALARS_NATIVE_SAME(name)                                                         \
    FA_INLINE float name##_bwo_f(float g, float y, float p0, float p1)                           \
    { return name##_bwd_f(g, y, p0, p1); }                                                      \
    FA_INLINE double name##_bwo_d(double g, double y, double p0, double p1)                      \
    { return name##_bwd_d(g, y, p0, p1); }
#define FA_BWO_SCALARS_NATIVE_OWN(name)                                                          \
    FA_INLINE float name##_bwo_f(float g, float y, float p0, float p1)                           \
    { return (float)name##_bwo(g, y, p0, p1); }                                              \
    FA_INLINE double name##_bwo_d(double g, double y, double p0, double p1)                      \
    { return name##_bwo(g, y, p0, p1); }
#define FA_BWO_SCALARS_MATH_OWN(name)                                                            \
    FA_INLINE float name##_bwo_f(float g, float y, float p0, float p1)                           \
    { return name##_bwo32(g, y, p0, p1, 1); }                                                   \
    FA_INLINE float name##_bwo_ff(float g, float y, float p0, float p1)                          \
    { return name##_bwo32(g, y, p0, p1, 0); }                                                   \
    FA_INLINE double name##_bwo_d(double g, double y, double p0, double p1)                      \
    { return name##_bwo(g, y, p0, p1); }
#define FA_BWO_SCALARS_NATIVE_NONE(name)
#define FA_BWO_SCALARS_WIDE_NONE(name)
#define FA_BWO_SCALARS_MATH_NONE(name)
#define FA_SCALARS(name, np, kind, keeps_int, bwo)                                               \
    FA_SCALARS_##kind(name) FA_BWO_SCALARS_##kind##_##bwo(name)
FASTACT_KERNELS(FA_SCALARS)

/* ---- AVX-512 loops for the memory-bound backwards whose grad_output gcc reads under a mask ----
 * For these backwards gcc 12 folds the load of grad_output into a masked multiply
 * (vmulps (g), zmm, zmm{k}: the product where the select keeps it, another value elsewhere),
 * and on Zen 5 that ran them at 55-80% of a plain multiply's speed once the arrays left the
 * cache (4M elements, one core: hardsigmoid' 1.82 Gelem/s, sigmoid' from y 2.33, np.multiply on
 * the same three streams 2.96); a masked move of g (relu', relu6', hardtanh') costs nothing.
 * These loops read g into a register (the empty asm stops gcc folding the load) and then do the
 * scalar formula's own float operations lane by lane: the same bits (test_isa, /tmp digest),
 * 2.88 Gelem/s for both. _loops.h's hook runs them (FA_VEC_<name>_<dir>_<suffix>); the scalar loop
 * does the last elements. FA_BV(fn, T, EXPR) stamps one for T = float (ps, 16 lanes) or double
 * (pd, 8): EXPR computes r from the registers g and x (for a backward from the output, x is y)
 * and the broadcast parameters P0 and P1, with FA_V(op) for _mm512_<op>_ps or _pd and FA_VCMP
 * for the compare; the NaN rule (x's NaN as it is) is the loop's. */
#if FA_X86_DISPATCH
#include <immintrin.h>
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4,prefer-vector-width=512")
#define FA_BV_float(x) x##_ps
#define FA_BV_double(x) x##_pd
#define FA_BV_VEC_float __m512
#define FA_BV_VEC_double __m512d
#define FA_BV(fn, T, EXPR)                                                                       \
    static npy_intp fn(npy_intp n, const T *gp, const T *xp, T *yp, T p0, T p1)                 \
    {                                                                                            \
        typedef FA_BV_VEC_##T V;                                                                 \
        enum { L = 64 / sizeof(T) };                                                             \
        const V P0 = FA_V(_mm512_set1)(p0), P1 = FA_V(_mm512_set1)(p1);                          \
        (void)P0; (void)P1;                                                                      \
        npy_intp i = 0;                                                                          \
        for (; i + L <= n; i += L) {                                                             \
            V g = FA_V(_mm512_loadu)(gp + i), x = FA_V(_mm512_loadu)(xp + i);                    \
            __asm__("" : "+v"(g));                                                               \
            V r = (EXPR);                                                                        \
            FA_V(_mm512_storeu)(yp + i, FA_V(_mm512_mask_mov)(r, FA_VCMP(x, x, _CMP_UNORD_Q), x));  \
        }                                                                                        \
        return i;                                                                                \
    }
#define FA_BV_CMP(a, b, op) FA_VCMP(a, FA_V(_mm512_set1)(b), op)
#define FA_BV_IN(x, lo, hi) (FA_BV_CMP(x, lo, _CMP_GT_OQ) & FA_BV_CMP(x, hi, _CMP_LT_OQ))
#define FA_V FA_BV_float
#define FA_VCMP _mm512_cmp_ps_mask
/* leaky_relu_BWD: x > 0 ? g : g * p0 (also its backward from the output, SAME) */
FA_BV(fa_bv_leaky_relu_f, float, FA_V(_mm512_mask_mul)(g, FA_BV_CMP(x, 0.0f, _CMP_NGT_UQ), g, P0))
/* hardsigmoid_BWD in float: (x > -3 && x < 3) ? g * (float)(1/6) : +0 */
FA_BV(fa_bv_hardsigmoid_f, float,
      FA_V(_mm512_maskz_mul)(FA_BV_IN(x, -3.0f, 3.0f), g, FA_V(_mm512_set1)((float)(1.0 / 6.0))))
/* sigmoid_bwo32: g * fma(-y, y, min(y, FLT_MAX)) (vminps is fa32_min for every non-NaN y) */
FA_BV(fa_bv_sigmoid_bwo_f, float,
      _mm512_mul_ps(g, _mm512_fnmadd_ps(x, x, _mm512_min_ps(x, _mm512_set1_ps(0x1.fffffep127f)))))
/* tanh_bwo32: g * fma(-y, y, 1) */
FA_BV(fa_bv_tanh_bwo_f, float, _mm512_mul_ps(g, _mm512_fnmadd_ps(x, x, _mm512_set1_ps(1.0f))))
/* elu_bwo32: y > 0 ? g : g * (y + alpha) */
FA_BV(fa_bv_elu_bwo_f, float,
      FA_V(_mm512_mask_mul)(g, FA_BV_CMP(x, 0.0f, _CMP_NGT_UQ), g, FA_V(_mm512_add)(x, P0)))
#undef FA_V
#undef FA_VCMP
#define FA_V FA_BV_double
#define FA_VCMP _mm512_cmp_pd_mask
/* the float64 formulas above, in the same order (no FMA: -ffp-contract=off) */
FA_BV(fa_bv_leaky_relu_d, double, FA_V(_mm512_mask_mul)(g, FA_BV_CMP(x, 0.0, _CMP_NGT_UQ), g, P0))
FA_BV(fa_bv_hardsigmoid_d, double,
      FA_V(_mm512_maskz_mul)(FA_BV_IN(x, -3.0, 3.0), g, FA_V(_mm512_set1)(1.0 / 6.0)))
/* hardsigmoid_bwo: (y > 0 && y < 1) ? g * (1/6) : 0 */
FA_BV(fa_bv_hardsigmoid_bwo_d, double,
      FA_V(_mm512_maskz_mul)(FA_BV_IN(x, 0.0, 1.0), g, FA_V(_mm512_set1)(1.0 / 6.0)))
/* sigmoid_bwo: g * (y * (1 - y)); tanh_bwo: g * ((1 - y) * (1 + y)) */
FA_BV(fa_bv_sigmoid_bwo_d, double,
      _mm512_mul_pd(g, _mm512_mul_pd(x, _mm512_sub_pd(_mm512_set1_pd(1.0), x))))
FA_BV(fa_bv_tanh_bwo_d, double,
      _mm512_mul_pd(g, _mm512_mul_pd(_mm512_sub_pd(_mm512_set1_pd(1.0), x),
                                     _mm512_add_pd(_mm512_set1_pd(1.0), x))))
/* elu_bwo: y > 0 ? g : g * (y + alpha); celu_bwo: y > 0 ? g : g * (y / alpha + 1) */
FA_BV(fa_bv_elu_bwo_d, double,
      FA_V(_mm512_mask_mul)(g, FA_BV_CMP(x, 0.0, _CMP_NGT_UQ), g, FA_V(_mm512_add)(x, P0)))
FA_BV(fa_bv_celu_bwo_d, double,
      FA_V(_mm512_mask_mul)(g, FA_BV_CMP(x, 0.0, _CMP_NGT_UQ), g,
                            _mm512_add_pd(_mm512_div_pd(x, P0), _mm512_set1_pd(1.0))))
/* selu_bwo: y > 0 ? g * SCALE : g * (y + SCALE * ALPHA) */
FA_BV(fa_bv_selu_bwo_d, double,
      _mm512_mask_mul_pd(_mm512_mul_pd(g, _mm512_set1_pd(FA_SELU_SCALE)),
                         FA_BV_CMP(x, 0.0, _CMP_NGT_UQ), g,
                         _mm512_add_pd(x, _mm512_set1_pd(FA_SELU_SCALE * FA_SELU_ALPHA))))
#undef FA_V
#undef FA_VCMP
#pragma GCC pop_options
#undef FA_BV
#undef FA_BV_CMP
#undef FA_BV_IN
/* the hook's call: these loops on AVX-512, none (0 elements) on the other instruction sets; it
 * expands inside _loops.h's loop function, whose scalar parameters p0 and p1 it passes on */
#define FA_BV_CALL_avx512(fn, n, g, x, y) fn(n, g, x, y, p0, p1)
#else
#define FA_BV_CALL_avx512(fn, n, g, x, y) ((npy_intp)0)
#endif
#define FA_BV_CALL_baseline(fn, n, g, x, y) ((npy_intp)0)
#define FA_BV_CALL_avx2(fn, n, g, x, y) ((npy_intp)0)
/* FA_VEC_<name>_<dir>_<suffix> ~, FA_BV_HOOK_<loop>: the hook _loops.h probes for */
#define FA_BV_HOOK_leaky_relu_f(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_leaky_relu_f, n, g, x, y)
#define FA_BV_HOOK_leaky_relu_d(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_leaky_relu_d, n, g, x, y)
#define FA_BV_HOOK_hardsigmoid_f(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_hardsigmoid_f, n, g, x, y)
#define FA_BV_HOOK_hardsigmoid_d(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_hardsigmoid_d, n, g, x, y)
#define FA_BV_HOOK_hardsigmoid_bwo_d(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_hardsigmoid_bwo_d, n, g, x, y)
#define FA_BV_HOOK_sigmoid_bwo_f(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_sigmoid_bwo_f, n, g, x, y)
#define FA_BV_HOOK_sigmoid_bwo_d(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_sigmoid_bwo_d, n, g, x, y)
#define FA_BV_HOOK_tanh_bwo_f(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_tanh_bwo_f, n, g, x, y)
#define FA_BV_HOOK_tanh_bwo_d(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_tanh_bwo_d, n, g, x, y)
#define FA_BV_HOOK_elu_bwo_f(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_elu_bwo_f, n, g, x, y)
#define FA_BV_HOOK_elu_bwo_d(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_elu_bwo_d, n, g, x, y)
#define FA_BV_HOOK_celu_bwo_d(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_celu_bwo_d, n, g, x, y)
#define FA_BV_HOOK_selu_bwo_d(isa, n, g, x, y) FA_CAT(FA_BV_CALL, isa)(fa_bv_selu_bwo_d, n, g, x, y)
#define FA_VEC_leaky_relu_bwd_f ~, FA_BV_HOOK_leaky_relu_f
#define FA_VEC_leaky_relu_bwo_f ~, FA_BV_HOOK_leaky_relu_f
#define FA_VEC_leaky_relu_bwd_d ~, FA_BV_HOOK_leaky_relu_d
#define FA_VEC_leaky_relu_bwo_d ~, FA_BV_HOOK_leaky_relu_d
#define FA_VEC_hardsigmoid_bwd_f ~, FA_BV_HOOK_hardsigmoid_f
#define FA_VEC_hardsigmoid_bwd_d ~, FA_BV_HOOK_hardsigmoid_d
#define FA_VEC_hardsigmoid_bwo_d ~, FA_BV_HOOK_hardsigmoid_bwo_d
#define FA_VEC_sigmoid_bwo_f ~, FA_BV_HOOK_sigmoid_bwo_f
#define FA_VEC_sigmoid_bwo_ff ~, FA_BV_HOOK_sigmoid_bwo_f
#define FA_VEC_sigmoid_bwo_d ~, FA_BV_HOOK_sigmoid_bwo_d
#define FA_VEC_tanh_bwo_f ~, FA_BV_HOOK_tanh_bwo_f
#define FA_VEC_tanh_bwo_ff ~, FA_BV_HOOK_tanh_bwo_f
#define FA_VEC_tanh_bwo_d ~, FA_BV_HOOK_tanh_bwo_d
#define FA_VEC_elu_bwo_f ~, FA_BV_HOOK_elu_bwo_f
#define FA_VEC_elu_bwo_ff ~, FA_BV_HOOK_elu_bwo_f
#define FA_VEC_elu_bwo_d ~, FA_BV_HOOK_elu_bwo_d
#define FA_VEC_celu_bwo_d ~, FA_BV_HOOK_celu_bwo_d
#define FA_VEC_selu_bwo_d ~, FA_BV_HOOK_selu_bwo_d

/* ---- contiguous loops, compiled once per instruction set ---------------------------------- */
typedef void (*fa_fwd_f_t)(npy_intp, const float *, float *, float, float);
typedef void (*fa_fwd_d_t)(npy_intp, const double *, double *, double, double);
typedef void (*fa_bwd_f_t)(npy_intp, const float *, const float *, float *, float, float);
typedef void (*fa_bwd_d_t)(npy_intp, const double *, const double *, double *, double, double);
typedef void (*fa_fwd_f_arr_t)(npy_intp, const float *, float *, const float *, const float *);
typedef void (*fa_fwd_d_arr_t)(npy_intp, const double *, double *, const double *, const double *);
typedef void (*fa_bwd_f_arr_t)(npy_intp, const float *, const float *, float *, const float *, const float *);
typedef void (*fa_bwd_d_arr_t)(npy_intp, const double *, const double *, double *, const double *, const double *);

enum { FA_BASELINE, FA_AVX2, FA_AVX512, FA_NISA };
/* PReLU's backward: elements of x per block of rows, or per piece of a channel block, in its one
 * pass over g and x (_kernels.pyx's _fused); grad_weight sums channel blocks in such pieces */
#define FA_GW_BLOCK 32768
static const char *const FA_ISA_NAMES[FA_NISA] = {"baseline", "avx2", "avx512"};

/* What _loops.h stamps of each kind (FA_STAMP_<kind>, FA_STAMP_BWO_<kind>): the float32 math's
 * forward and backward loops (MATH) when FA_STAMP_CALC is 1, every memory-bound loop (NATIVE,
 * WIDE, every backward from the output) when FA_STAMP_MEM is 1; both everywhere but AVX-512. */
#define FA_STAMP_MATH FA_STAMP_CALC
#define FA_STAMP_NATIVE FA_STAMP_MEM
#define FA_STAMP_WIDE FA_STAMP_MEM
#define FA_STAMP_BWO_NATIVE FA_STAMP_MEM
#define FA_STAMP_BWO_MATH FA_STAMP_MEM
#define FA_STAMP_BWO_WIDE FA_STAMP_MEM
#define FA_STAMP_CALC 1
#define FA_STAMP_MEM 1
#define FA_ISA baseline
#include "_loops.h"
#undef FA_ISA

#if FA_X86_DISPATCH
/* levels compiled: all three */
#define FA_ISA_BUILT FA_NISA

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
#define FA_ISA avx2
#include "_loops.h"
#undef FA_ISA
#pragma GCC pop_options

/* AVX-512 twice: the float32 math under gcc's default tuning, and the memory-bound loops (the
 * relu family, the hard functions, every backward from the output) under tune=intel. With the
 * default tuning gcc folds the load of grad_output into a masked move (vmovups (g), zmm{k})
 * for the selects of their backwards, which on Zen 5 ran relu', hardtanh' and leaky_relu' at
 * 2.2-2.8 Gelem/s at 4M elements against NumPy's 4.1-5.0 for a multiply (one core); tune=intel
 * gives 4.3-4.8, and 5-13% more at 1M (bench/masked_load.py). The float32 math lost 2-7% under
 * it, so it keeps the default. Tuning changes no result. */
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4,prefer-vector-width=512")
#define FA_ISA avx512
#undef FA_STAMP_MEM
#define FA_STAMP_MEM 0
#include "_loops.h"
#undef FA_ISA
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4,tune=intel,prefer-vector-width=512")
#define FA_ISA avx512
#undef FA_STAMP_CALC
#undef FA_STAMP_MEM
#define FA_STAMP_CALC 0
#define FA_STAMP_MEM 1
#include "_loops.h"
#undef FA_ISA
#pragma GCC pop_options

#define FA_BY_ISA(name) {name##_baseline, name##_avx2, name##_avx512}
#else
/* baseline only; the other slots are never selected (fa_best_isa never returns them) */
#define FA_ISA_BUILT 1
#define FA_BY_ISA(name) {name##_baseline, name##_baseline, name##_baseline}
#endif
#undef FA_STAMP_NATIVE
#undef FA_STAMP_MATH
#undef FA_STAMP_WIDE
#undef FA_STAMP_BWO_NATIVE
#undef FA_STAMP_BWO_MATH
#undef FA_STAMP_BWO_WIDE
#undef FA_STAMP_CALC
#undef FA_STAMP_MEM

/* Float32 loops come in two precision levels, indexed by FA_FAST and FA_ACCURATE. */
enum { FA_FAST, FA_ACCURATE, FA_NLEVELS };
static const char *const FA_LEVEL_NAMES[FA_NLEVELS] = {"fast", "accurate"};

typedef struct {
    const char *name;
    int nparams;
    int keeps_int;
    int has_backward_from_output; /* bwo_* compute the backward from the output y (SAME or OWN) */
    fa_fwd_f_t fwd_f[FA_NLEVELS][FA_NISA];
    fa_fwd_d_t fwd_d[FA_NISA];
    fa_bwd_f_t bwd_f[FA_NLEVELS][FA_NISA];
    fa_bwd_d_t bwd_d[FA_NISA];
    fa_fwd_f_arr_t fwd_f_arr[FA_NLEVELS][FA_NISA];
    fa_fwd_d_arr_t fwd_d_arr[FA_NISA];
    fa_bwd_f_arr_t bwd_f_arr[FA_NLEVELS][FA_NISA];
    fa_bwd_d_arr_t bwd_d_arr[FA_NISA];
    /* backward from the output: NULL where the table says NONE */
    fa_bwd_f_t bwo_f[FA_NLEVELS][FA_NISA];
    fa_bwd_d_t bwo_d[FA_NISA];
    fa_bwd_f_arr_t bwo_f_arr[FA_NLEVELS][FA_NISA];
    fa_bwd_d_arr_t bwo_d_arr[FA_NISA];
} fa_kernel;

/* {fast, accurate}: NATIVE kernels run the same loop at both levels */
#define FA_LEVELS_NATIVE(name, dir, arr) {FA_BY_ISA(name##_##dir##_f##arr), FA_BY_ISA(name##_##dir##_f##arr)}
#define FA_LEVELS_MATH(name, dir, arr) {FA_BY_ISA(name##_##dir##_ff##arr), FA_BY_ISA(name##_##dir##_f##arr)}
#define FA_LEVELS_WIDE(name, dir, arr) FA_LEVELS_MATH(name, dir, arr)
#define FA_BWO_ENTRY_SAME(name, kind)                                                            \
    FA_LEVELS_##kind(name, bwo, ), FA_BY_ISA(name##_bwo_d),                              \
    FA_LEVELS_##kind(name, bwo, _arr), FA_BY_ISA(name##_bwo_d_arr)
#define FA_BWO_ENTRY_OWN(name, kind) FA_BWO_ENTRY_SAME(name, kind)
#define FA_BWO_ENTRY_NONE(name, kind) {{NULL}}, {NULL}, {{NULL}}, {NULL}
#define FA_HAS_BWO_SAME 1
#define FA_HAS_BWO_OWN 1
#define FA_HAS_BWO_NONE 0
#define FA_ENTRY(name, np, kind, keeps_int, bwo)                                                 \
    {#name, np, keeps_int, FA_HAS_BWO_##bwo,                                                     \
     FA_LEVELS_##kind(name, fwd, ), FA_BY_ISA(name##_fwd_d),                             \
     FA_LEVELS_##kind(name, bwd, ), FA_BY_ISA(name##_bwd_d),                             \
     FA_LEVELS_##kind(name, fwd, _arr), FA_BY_ISA(name##_fwd_d_arr),                             \
     FA_LEVELS_##kind(name, bwd, _arr), FA_BY_ISA(name##_bwd_d_arr), FA_BWO_ENTRY_##bwo(name, kind)},
static fa_kernel FA_KERNELS[] = {FASTACT_KERNELS(FA_ENTRY)};
#define FA_NKERNELS ((int)(sizeof FA_KERNELS / sizeof FA_KERNELS[0]))

/* The instruction set in use: set once at import, read-only afterwards. */
static int fa_isa = FA_BASELINE;

/* PReLU's grad_weight terms (fa_negsum_*, fa_negsums_*, _loops.h) on the instruction set in
 * use: one block's, and every block's of a range of channels; the caller keeps the
 * floating-point flags (a discarded product may overflow) */
typedef double (*fa_negsum_f_t)(npy_intp, const float *, const float *, int, double);
typedef double (*fa_negsum_d_t)(npy_intp, const double *, const double *, int, double);
typedef void (*fa_negsums_f_t)(npy_intp, npy_intp, npy_intp, npy_intp, npy_intp, const float *,
                               const float *, const double *, int, double *);
typedef void (*fa_negsums_d_t)(npy_intp, npy_intp, npy_intp, npy_intp, npy_intp, const double *,
                               const double *, const double *, int, double *);
static const fa_negsum_f_t FA_NEGSUM_F[FA_NISA] = FA_BY_ISA(fa_negsum_f);
static const fa_negsum_d_t FA_NEGSUM_D[FA_NISA] = FA_BY_ISA(fa_negsum_d);
static const fa_negsums_f_t FA_NEGSUMS_F[FA_NISA] = FA_BY_ISA(fa_negsums_f);
static const fa_negsums_d_t FA_NEGSUMS_D[FA_NISA] = FA_BY_ISA(fa_negsums_d);
FA_INLINE double fa_negsum_f(npy_intp n, const float *g, const float *x, int per_element, double w)
{ return FA_NEGSUM_F[fa_isa](n, g, x, per_element, w); }
FA_INLINE double fa_negsum_d(npy_intp n, const double *g, const double *x, int per_element,
                             double w)
{ return FA_NEGSUM_D[fa_isa](n, g, x, per_element, w); }
FA_INLINE void fa_negsums_f(npy_intp outer, npy_intp channels, npy_intp inner, npy_intp c0,
                            npy_intp c1, const float *g, const float *x, const double *w,
                            int per_element, double *sums)
{ FA_NEGSUMS_F[fa_isa](outer, channels, inner, c0, c1, g, x, w, per_element, sums); }
FA_INLINE void fa_negsums_d(npy_intp outer, npy_intp channels, npy_intp inner, npy_intp c0,
                            npy_intp c1, const double *g, const double *x, const double *w,
                            int per_element, double *sums)
{ FA_NEGSUMS_D[fa_isa](outer, channels, inner, c0, c1, g, x, w, per_element, sums); }

/* The widest level both this CPU and this build have. */
static int fa_best_isa(void)
{
#if FA_X86_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return FA_AVX512;
    if (__builtin_cpu_supports("x86-64-v3")) return FA_AVX2;
#endif
    return FA_BASELINE;
}

/* ---- entry points ------------------------------------------------------------------------ */
/* Each runs a kernel and leaves the caller's floating-point status flags as they were: the kernels
 * compute both sides of every select, so a discarded side may raise overflow or invalid, and
 * those flags mean nothing and must not reach NumPy's error reporting. On x86 the kernels only
 * touch the SSE unit, whose flags live in MXCSR: one register read and one write, where glibc's
 * fegetexceptflag/fesetexceptflag also go through the x87 unit's status and environment. */
#if FA_X86_DISPATCH
typedef unsigned int fa_fp_status;
FA_INLINE fa_fp_status fa_fp_save(void) { return _mm_getcsr(); }
FA_INLINE void fa_fp_restore(fa_fp_status saved) { _mm_setcsr(saved); }
#else
typedef fexcept_t fa_fp_status;
FA_INLINE fa_fp_status fa_fp_save(void)
{
    fexcept_t saved;
    fegetexceptflag(&saved, FE_ALL_EXCEPT);
    return saved;
}
FA_INLINE void fa_fp_restore(fa_fp_status saved) { fesetexceptflag(&saved, FE_ALL_EXCEPT); }
#endif

/* The elements before y reaches a 64-byte boundary, which the entry points run as a call of
 * their own so that the loop's vector stores never straddle two cache lines: NumPy aligns small
 * arrays to 16 bytes only, and one core ran relu at 1M float32 elements 15% slower, at 65,536 7%
 * slower, with y 16 bytes off a cache line (bench/alignment.py). Elementwise, so the same bits. */
FA_INLINE npy_intp fa_head(const void *y, npy_intp n, size_t size)
{
    size_t off = (size_t)((uintptr_t)y & 63);
    if (n < 1024 || off % size) return 0;
    return (npy_intp)(((64 - off) & 63) / size);
}

FA_INLINE void fa_forward_f(const fa_kernel *K, int level, npy_intp n, const float *x, float *y,
                            float p0, float p1)
{
    fa_fp_status saved = fa_fp_save();
    npy_intp h = fa_head(y, n, sizeof *y);
    if (h) K->fwd_f[level][fa_isa](h, x, y, p0, p1);
    K->fwd_f[level][fa_isa](n - h, x + h, y + h, p0, p1);
    fa_fp_restore(saved);
}
/* float64 has one precision level: `level` is ignored */
FA_INLINE void fa_forward_d(const fa_kernel *K, int level, npy_intp n, const double *x, double *y,
                            double p0, double p1)
{
    (void)level;
    fa_fp_status saved = fa_fp_save();
    npy_intp h = fa_head(y, n, sizeof *y);
    if (h) K->fwd_d[fa_isa](h, x, y, p0, p1);
    K->fwd_d[fa_isa](n - h, x + h, y + h, p0, p1);
    fa_fp_restore(saved);
}
/* backward from x, or from the output y when from_output (then x is y) */
FA_INLINE void fa_backward_f(const fa_kernel *K, int level, int from_output, npy_intp n,
                             const float *g, const float *x, float *y, float p0, float p1)
{
    fa_fp_status saved = fa_fp_save();
    fa_bwd_f_t loop = (from_output ? K->bwo_f : K->bwd_f)[level][fa_isa];
    npy_intp h = fa_head(y, n, sizeof *y);
    if (h) loop(h, g, x, y, p0, p1);
    loop(n - h, g + h, x + h, y + h, p0, p1);
    fa_fp_restore(saved);
}
FA_INLINE void fa_backward_d(const fa_kernel *K, int level, int from_output, npy_intp n,
                             const double *g, const double *x, double *y, double p0, double p1)
{
    (void)level;
    fa_fp_status saved = fa_fp_save();
    fa_bwd_d_t loop = (from_output ? K->bwo_d : K->bwd_d)[fa_isa];
    npy_intp h = fa_head(y, n, sizeof *y);
    if (h) loop(h, g, x, y, p0, p1);
    loop(n - h, g + h, x + h, y + h, p0, p1);
    fa_fp_restore(saved);
}

/* One C entry per direction and dtype, taking the kernel's index and the precision level: the
 * parallel paths (the worker pool in _pool.h, and Numba) call these on contiguous blocks, so they
 * run the very same loops as the serial path. float64 has one level (the level argument is ignored). */
static void fa_run_fwd_f(int k, int level, npy_intp n, const float *x, float *y, float p0, float p1)
{ fa_forward_f(&FA_KERNELS[k], level, n, x, y, p0, p1); }
static void fa_run_fwd_d(int k, int level, npy_intp n, const double *x, double *y, double p0, double p1)
{ fa_forward_d(&FA_KERNELS[k], level, n, x, y, p0, p1); }
static void fa_run_bwd_f(int k, int level, int from_output, npy_intp n, const float *g, const float *x, float *y, float p0, float p1)
{ fa_backward_f(&FA_KERNELS[k], level, from_output, n, g, x, y, p0, p1); }
static void fa_run_bwd_d(int k, int level, int from_output, npy_intp n, const double *g, const double *x, double *y, double p0, double p1)
{ fa_backward_d(&FA_KERNELS[k], level, from_output, n, g, x, y, p0, p1); }

/* The precision level in force: this thread's (fastact.precision(), -1 when unset), else the
 * process's (fastact.set_precision()). Python threads are OS threads, so a C thread-local is
 * the thread-local that Python code sees; the ufunc twins read it on every call. */
static int fa_level_process = FA_FAST;
static _Thread_local int fa_level_thread = -1;
FA_INLINE int fa_level(void) { return fa_level_thread >= 0 ? fa_level_thread : fa_level_process; }
static int fa_get_thread_level(void) { return fa_level_thread; }
static void fa_set_thread_level(int level) { fa_level_thread = level; }
static int fa_get_process_level(void) { return fa_level_process; }
static void fa_set_process_level(int level) { fa_level_process = level; }

#include "_pool.h"
#include "_ufunc_loops.h"

#endif
