/* Old float32 path against today's two float32 levels, in one binary (issue 9: the accurate level
 * must run at least 2x "today's float32 throughput", which meant float32 evaluated through the
 * float64 formulas of _kernels.h, rounded once, auto-vectorized by gcc in double).
 *
 * Built by bench/accurate_vs_double.py with setup.py's flags. It includes _kernels.h itself, so
 * the accurate (_f) and fast (_ff) loops timed here are the library's own static loops (same
 * source, same #pragma GCC target blocks); the old path is stamped below in the same form as
 * _loops.h's loops (ivdep, the NaN select), under the same targets. */
#include <Python.h>
#include <numpy/ndarraytypes.h>
#include <numpy/ufuncobject.h> /* _kernels.h ends with the ufunc loops */
#include "_kernels.h"
#include <time.h>

#define OLD_FWD(name, isa)                                                                        \
    static void old_##name##_fwd_##isa(npy_intp n, const float *x, float *y, float p0, float p1) \
    {                                                                                             \
        _Pragma("GCC ivdep") for (npy_intp i = 0; i < n; i++) {                                   \
            float xi = x[i];                                                                      \
            y[i] = xi != xi ? xi : (float)name##_fwd((double)xi, (double)p0, (double)p1);         \
        }                                                                                         \
    }
#define OLD_BWD(name, dir, isa)                                                                   \
    static void old_##name##_##dir##_##isa(npy_intp n, const float *g, const float *x, float *y, \
                                           float p0, float p1)                                    \
    {                                                                                             \
        _Pragma("GCC ivdep") for (npy_intp i = 0; i < n; i++) {                                   \
            float gi = g[i], xi = x[i];                                                           \
            y[i] = xi != xi ? xi                                                                  \
                            : (float)name##_##dir((double)gi, (double)xi, (double)p0, (double)p1); \
        }                                                                                         \
    }
#define OLD_BWO_OWN(name, isa) OLD_BWD(name, bwo, isa)
#define OLD_BWO_NONE(name, isa)
#define OLD_MATH(name, isa, bwo) OLD_FWD(name, isa) OLD_BWD(name, bwd, isa) OLD_BWO_##bwo(name, isa)
#define OLD_NATIVE(name, isa, bwo)
#define OLD_WIDE(name, isa, bwo)
#define OLD_AVX2(name, np, kind, ki, bwo) OLD_##kind(name, avx2, bwo)
#define OLD_AVX512(name, np, kind, ki, bwo) OLD_##kind(name, avx512, bwo)

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
FASTACT_KERNELS(OLD_AVX2)
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4,prefer-vector-width=512")
FASTACT_KERNELS(OLD_AVX512)
#pragma GCC pop_options

/* One record per MATH kernel: [variant old/accurate/fast][isa avx2/avx512] per direction. */
typedef struct {
    const char *name;
    fa_fwd_f_t fwd[3][2];
    fa_bwd_f_t bwd[3][2];
    fa_bwd_f_t bwo[3][2];
} bench_kernel;
#define B2(a) {a##_avx2, a##_avx512}
#define BWO_E_OWN(name) {B2(old_##name##_bwo), B2(name##_bwo_f), B2(name##_bwo_ff)}
#define BWO_E_NONE(name) {{NULL}}
#define E_MATH(name, bwo)                                                                         \
    {#name, {B2(old_##name##_fwd), B2(name##_fwd_f), B2(name##_fwd_ff)},                          \
     {B2(old_##name##_bwd), B2(name##_bwd_f), B2(name##_bwd_ff)}, BWO_E_##bwo(name)},
#define E_NATIVE(name, bwo)
#define E_WIDE(name, bwo)
#define ENTRY(name, np, kind, ki, bwo) E_##kind(name, bwo)
static const bench_kernel BENCH[] = {FASTACT_KERNELS(ENTRY)};

int bench_count(void) { return (int)(sizeof BENCH / sizeof BENCH[0]); }
const char *bench_name(int k) { return BENCH[k].name; }
int bench_has_bwo(int k) { return BENCH[k].bwo[0][0] != NULL; }

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Runs kernel k, direction dir (0 fwd, 1 bwd, 2 bwo), variant v (0 old, 1 accurate, 2 fast),
 * isa (0 avx2, 1 avx512) `iters` times over n elements; returns the seconds. The FP status is
 * kept as the library's entry points keep it. */
double bench_run(int k, int dir, int v, int isa, npy_intp n, const float *g, const float *x,
                 float *y, float p0, float p1, int iters)
{
    const bench_kernel *b = &BENCH[k];
    unsigned csr = _mm_getcsr();
    double t0 = now();
    for (int r = 0; r < iters; r++) {
        if (dir == 0) b->fwd[v][isa](n, x, y, p0, p1);
        else if (dir == 1) b->bwd[v][isa](n, g, x, y, p0, p1);
        else b->bwo[v][isa](n, g, x, y, p0, p1);
    }
    double t = now() - t0;
    _mm_setcsr(csr);
    return t;
}
