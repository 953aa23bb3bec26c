/* fastact kernel source: the activation formulas and the table that stamps out their loops.
 *
 * Adding an activation: write its forward and backward below (a native-type expression, or a
 * double function with the `f64` precision flag, see _math.h), add one line to FASTACT_KERNELS,
 * then describe its Python face in fastact/_table.py and its reference in tests/reference.py.
 *
 * Conventions shared by every kernel:
 *   - fwd(x, p0, p1) and bwd(grad_output, x, p0, p1); p0, p1 are the scalar parameters in
 *     _table.py order (unused ones are 0).
 *   - Kinks follow PyTorch: the derivative at a kink is the left one where PyTorch takes it
 *     (relu'(0) = 0, leaky_relu'(0) = negative_slope, elu'(0) = alpha).
 *   - backward is NaN wherever x is NaN (applied once, in the loop); otherwise it is
 *     grad_output * f'(x), with exact zeros where f'(x) is 0.
 */
#ifndef FASTACT_KERNELS_H
#define FASTACT_KERNELS_H

#include <Python.h>
#include <numpy/ndarraytypes.h>
#include <xmmintrin.h>
#include "_math.h"

/* ---- formulas --------------------------------------------------------------------------- */

/* Native-type formulas: exact in the input's own precision, so float32 stays float32 wide. */
#define relu_FWD(T, x, p0, p1) ((x) < 0 ? (T)0 : (x))
#define relu_BWD(T, g, x, p0, p1) ((x) > 0 ? (g) : (T)0)

#define leaky_relu_FWD(T, x, p0, p1) ((x) > 0 ? (x) : (x) * (p0))
#define leaky_relu_BWD(T, g, x, p0, p1) ((x) > 0 ? (g) : (g) * (p0))

/* Formulas computed in double; float32 results use the shorter polynomials (f64 = 0). */
static inline double elu_fwd(double x, double alpha, double unused, const int f64)
{
    (void)unused;
    return x > 0 ? x : alpha * fa_expm1_neg(x, f64);
}
static inline double elu_bwd(double g, double x, double alpha, double unused, const int f64)
{
    (void)unused;
    return x > 0 ? g : g * (alpha * fa_exp(x, f64));
}

/* gelu(x) = x * Phi(x); Phi(x) = 1 - Phi(-x) for x >= 0. For x < 0 the whole product is scaled
 * by 2^k last, so a normal result is never built from a subnormal Phi. */
static inline double gelu_fwd(double x, double p0, double p1, const int f64)
{
    (void)p0; (void)p1;
    fa_tail T = fa_normal_tail(x, f64);
    double lead = x < 0 ? fa_max(x, -FA_TAIL_XMAX(f64)) : 1.0;
    double s = fa_scale(lead * 0.5 * T.tF * T.m, T.k);
    return x < 0 ? s : x * (1.0 - s);
}
/* gelu'(x) = Phi(x) + x*phi(x). With a = |x|: x < 0 gives Phi(-a) - a*phi(a), x >= 0 gives
 * 1 - (Phi(-a) - a*phi(a)); both share exp(-a*a/2). */
static inline double gelu_bwd(double g, double x, double p0, double p1, const int f64)
{
    (void)p0; (void)p1;
    fa_tail T = fa_normal_tail(x, f64);
    double s = fa_scale((0.5 * T.tF - T.a * FA_INV_SQRT_2PI) * T.m, T.k);
    return g * (x < 0 ? s : 1.0 - s);
}

/* gelu_tanh(x) = x * sigmoid(w). With E = exp(-|w|) and q = 1/(1+E): sigmoid(w) is q for w >= 0
 * and E*q for w < 0, and 1 - sigmoid(w) is the other one. */
static inline double gelu_tanh_fwd(double x, double p0, double p1, const int f64)
{
    (void)p0; (void)p1;
    fa_tanh_form P = fa_gelu_tanh_parts(x, f64);
    double q = 1.0 / (1.0 + fa_scale(P.m, P.k));
    return P.w < 0 ? fa_scale(P.xc * P.m * q, P.k) : x * q;
}
/* d/dx x*sigmoid(w) = sigmoid(w) * (1 + x * (1 - sigmoid(w)) * dw/dx) */
static inline double gelu_tanh_bwd(double g, double x, double p0, double p1, const int f64)
{
    (void)p0; (void)p1;
    fa_tanh_form P = fa_gelu_tanh_parts(x, f64);
    double E = fa_scale(P.m, P.k);
    double q = 1.0 / (1.0 + E);
    double d = P.w < 0 ? fa_scale(P.m * q * (1.0 + P.xc * q * P.dw), P.k)
                       : q * (1.0 + P.xc * E * q * P.dw);
    return g * d;
}

/* ---- the table -------------------------------------------------------------------------- */
/* X(name, number of scalar parameters, NATIVE or VIA_DOUBLE, whether integer inputs keep their
 * dtype (the result is computed exactly in the integer type)). */
#define FASTACT_KERNELS(X)                    \
    X(relu, 0, NATIVE, 1)                     \
    X(leaky_relu, 1, NATIVE, 0)               \
    X(elu, 1, VIA_DOUBLE, 0)                  \
    X(gelu, 0, VIA_DOUBLE, 0)                 \
    X(gelu_tanh, 0, VIA_DOUBLE, 0)

/* ---- per-type scalar entry points --------------------------------------------------------- */
#define FA_SCALARS_NATIVE(name)                                                                  \
    static inline float name##_fwd_f(float x, float p0, float p1)                              \
    { (void)p0; (void)p1; return name##_FWD(float, x, p0, p1); }                                \
    static inline double name##_fwd_d(double x, double p0, double p1)                          \
    { (void)p0; (void)p1; return name##_FWD(double, x, p0, p1); }                               \
    static inline float name##_bwd_f(float g, float x, float p0, float p1)                     \
    { (void)p0; (void)p1; return name##_BWD(float, g, x, p0, p1); }                             \
    static inline double name##_bwd_d(double g, double x, double p0, double p1)                \
    { (void)p0; (void)p1; return name##_BWD(double, g, x, p0, p1); }
#define FA_SCALARS_VIA_DOUBLE(name)                                                              \
    static inline float name##_fwd_f(float x, float p0, float p1)                              \
    { return (float)name##_fwd(x, p0, p1, 0); }                                                 \
    static inline double name##_fwd_d(double x, double p0, double p1)                          \
    { return name##_fwd(x, p0, p1, 1); }                                                        \
    static inline float name##_bwd_f(float g, float x, float p0, float p1)                     \
    { return (float)name##_bwd(g, x, p0, p1, 0); }                                              \
    static inline double name##_bwd_d(double g, double x, double p0, double p1)                \
    { return name##_bwd(g, x, p0, p1, 1); }
#define FA_SCALARS(name, np, kind, keeps_int) FA_SCALARS_##kind(name)
FASTACT_KERNELS(FA_SCALARS)

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
static const char *const FA_ISA_NAMES[FA_NISA] = {"baseline", "avx2", "avx512"};

#define FA_ISA baseline
#include "_loops.h"
#undef FA_ISA

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
#define FA_ISA avx2
#include "_loops.h"
#undef FA_ISA
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4,prefer-vector-width=512")
#define FA_ISA avx512
#include "_loops.h"
#undef FA_ISA
#pragma GCC pop_options

typedef struct {
    const char *name;
    int nparams;
    int keeps_int;
    fa_fwd_f_t fwd_f[FA_NISA];
    fa_fwd_d_t fwd_d[FA_NISA];
    fa_bwd_f_t bwd_f[FA_NISA];
    fa_bwd_d_t bwd_d[FA_NISA];
    fa_fwd_f_arr_t fwd_f_arr[FA_NISA];
    fa_fwd_d_arr_t fwd_d_arr[FA_NISA];
    fa_bwd_f_arr_t bwd_f_arr[FA_NISA];
    fa_bwd_d_arr_t bwd_d_arr[FA_NISA];
} fa_kernel;

#define FA_BY_ISA(name) {name##_baseline, name##_avx2, name##_avx512}
#define FA_ENTRY(name, np, kind, keeps_int)                                                      \
    {#name, np, keeps_int,                                                                       \
     FA_BY_ISA(name##_fwd_f), FA_BY_ISA(name##_fwd_d),                                           \
     FA_BY_ISA(name##_bwd_f), FA_BY_ISA(name##_bwd_d),                                           \
     FA_BY_ISA(name##_fwd_f_arr), FA_BY_ISA(name##_fwd_d_arr),                                   \
     FA_BY_ISA(name##_bwd_f_arr), FA_BY_ISA(name##_bwd_d_arr)},
static fa_kernel FA_KERNELS[] = {FASTACT_KERNELS(FA_ENTRY)};
#define FA_NKERNELS ((int)(sizeof FA_KERNELS / sizeof FA_KERNELS[0]))

/* The instruction set in use: set once at import, read-only afterwards. */
static int fa_isa = FA_BASELINE;

static int fa_best_isa(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return FA_AVX512;
    if (__builtin_cpu_supports("x86-64-v3")) return FA_AVX2;
    return FA_BASELINE;
}

/* ---- entry points ------------------------------------------------------------------------ */
/* Run a kernel and leave the caller's floating-point status flags as they were: the kernels
 * compute both sides of every select, so a discarded side may raise overflow or invalid, and
 * those flags mean nothing and must not reach NumPy's error reporting. */
#define FA_ENTRY_POINT(field, ...)                                                                \
    {                                                                                             \
        unsigned int csr = _mm_getcsr();                                                          \
        K->field[fa_isa](__VA_ARGS__);                                                            \
        _mm_setcsr(csr);                                                                          \
    }
static inline void fa_forward_f(const fa_kernel *K, npy_intp n, const float *x, float *y, float p0, float p1)
FA_ENTRY_POINT(fwd_f, n, x, y, p0, p1)
static inline void fa_forward_d(const fa_kernel *K, npy_intp n, const double *x, double *y, double p0, double p1)
FA_ENTRY_POINT(fwd_d, n, x, y, p0, p1)
static inline void fa_backward_f(const fa_kernel *K, npy_intp n, const float *g, const float *x, float *y, float p0, float p1)
FA_ENTRY_POINT(bwd_f, n, g, x, y, p0, p1)
static inline void fa_backward_d(const fa_kernel *K, npy_intp n, const double *g, const double *x, double *y, double p0, double p1)
FA_ENTRY_POINT(bwd_d, n, g, x, y, p0, p1)

/* One C entry per direction and dtype, taking the kernel's index: the parallel path (Numba) calls
 * these on contiguous blocks, so it runs the very same loops as the serial path. */
static void fa_run_fwd_f(int k, npy_intp n, const float *x, float *y, float p0, float p1)
{ fa_forward_f(&FA_KERNELS[k], n, x, y, p0, p1); }
static void fa_run_fwd_d(int k, npy_intp n, const double *x, double *y, double p0, double p1)
{ fa_forward_d(&FA_KERNELS[k], n, x, y, p0, p1); }
static void fa_run_bwd_f(int k, npy_intp n, const float *g, const float *x, float *y, float p0, float p1)
{ fa_backward_f(&FA_KERNELS[k], n, g, x, y, p0, p1); }
static void fa_run_bwd_d(int k, npy_intp n, const double *g, const double *x, double *y, double p0, double p1)
{ fa_backward_d(&FA_KERNELS[k], n, g, x, y, p0, p1); }

#include "_ufunc_loops.h"

#endif
