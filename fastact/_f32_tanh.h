/* float32 math at two precision levels: tanh and the functions built on it, gelu_tanh and mish.
 * The contract is _f32_exp.h's, whose building blocks (fa32_*, the exp polynomials) this file
 * uses; its own helpers are prefixed fa32t_.
 *
 * Measured over all 2^32 float32 inputs against the float64 formulas (g = 1), max ulp
 * (fast / accurate):
 *   tanh       forward 1.58 / 0.84   backward 2.38 / 1.60   from the output 0.50 / 0.50
 *   gelu_tanh  forward 1.93 / 0.59   backward 2.47 / 1.46 (2.83 / 1.84 before session 8)
 *   mish       forward 0.54 / 0.54   backward 0.54 / 0.54   (one kernel in double, both levels)
 * (backward near the roots of f' in units of 2^-26; accurate backward with g = -1.7 and 0.3 on
 * every 7th input: <= 1.91; gelu_tanh' fast with a random g in [-2, 2], 35 million inputs:
 * 3.24, and with |g| from 2^-41 to 2^67 on x in [-12.5, 5]: 3.29; with a random g in [-2, 2]
 * over all 2^32 inputs, one draw each (tools/accuracy.py --grad-output random, session 8):
 * tanh' 3.32 / 1.63, gelu_tanh' 3.62 / 1.97, mish' 0.54 / 0.54). Baseline, AVX2 and AVX-512
 * builds give the same bits.
 */
#ifndef FASTACT_F32_TANH_H
#define FASTACT_F32_TANH_H

/* ---- building blocks of this file ----------------------------------------------------------- */

/* e^(x + x_lo) = (1 + t + t_lo) 2^n, as fa32_exp_core (_f32_exp.h) computes it, with three
 * differences that this file needs:
 *  - no clamp: callers clamp their own argument (tighter, or further: gelu_tanh's backward
 *    needs n down to -184, which the scaling by 2^(n+k) of fa32t_pow2_k allows);
 *  - x_lo is added to -n*LN2_LO first and then to r once, at any size: gelu_tanh's x_lo reaches
 *    2^-18 (|w| up to 127), where fa32_exp_core's r_lo (1 + r) loses r^2/2 * r_lo, 2^-22
 *    relative, and its fast level rounds r twice;
 *  - three levels: 0 fast (degree 6), 1 degree 7 with t single (~2^-25 relative after the
 *    caller's rounding of 2^n (1 + t), for callers whose formula damps e^x's error: tanh),
 *    2 degree 7 with r, t and p carried as hi + lo (fa32_exp_core's accurate level).
 * |x| <= 142.5: n in [-206, 206]. */
FA_INLINE fa32_exp_t fa32t_exp_core(float x, float x_lo, const int lvl)
{
    fa32_exp_t E;
    E.tm = fa32_fma(x, FA32_LOG2E, FA32_MAGIC);
    E.n = E.tm - FA32_MAGIC;
    float r1 = fa32_fma(E.n, -FA32_LN2_HI, x);             /* exact */
    float rr = FA32_IS_ZERO(x_lo) ? E.n * -FA32_LN2_LO : fa32_fma(E.n, -FA32_LN2_LO, x_lo);
    float r = r1 + rr, P;
    if (lvl) {
        P = fa32_fma(fa32_fma(FA32_EXPA_P5, r, FA32_EXPA_P4), r, FA32_EXPA_P3);
        P = fa32_fma(fa32_fma(P, r, FA32_EXPA_P2), r, FA32_EXPA_P1);
        P = fa32_fma(P, r, FA32_EXPA_P0);
    } else {
        P = fa32_fma(fa32_fma(fa32_fma(FA32_EXPF_P4, r, FA32_EXPF_P3), r, FA32_EXPF_P2), r,
                     FA32_EXPF_P1);
        P = fa32_fma(P, r, FA32_EXPF_P0);
    }
    if (lvl < 2) {
        E.t = fa32_fma(r * r, P, r);
        E.t_lo = 0.0f;
        E.p = 1.0f + E.t;
        E.p_lo = 0.0f;
    } else {
        /* r + r_lo exactly (Fast2Sum; where |rr| > |r1| both are below 2^-16 and the error of
         * r_lo is below 2^-40); then as fa32_exp_core */
        float r_lo = (r1 - r) + rr;
        fa32_exp_finish_acc(&E, r, r_lo, P);
    }
    return E;
}

/* min(a, hi) for a >= +0 (and hi > 0): the bits of non-negative floats order as unsigned integers,
 * so this is one vpminud. A float select (fa32_min) would do too, but gcc then propagates the
 * constant through the select into everything downstream and blends two copies of the whole
 * computation (measured: gelu_tanh ran at half speed). */
FA_INLINE float fa32t_min_pos(float a, float hi)
{
    uint32_t u = fa32_to_bits(a), h = fa32_to_bits(hi);
    return fa32_from_bits(u < h ? u : h);
}
FA_INLINE float fa32t_max_pos(float a, float lo)
{
    uint32_t u = fa32_to_bits(a), l = fa32_to_bits(lo);
    return fa32_from_bits(u > l ? u : l);
}

/* m ? a : b for an all-ones or all-zeros mask m, in bit operations. The branch selects of the
 * two-sided formulas are written this way because gcc, given the float comparison itself,
 * threads it through the whole function and computes each side separately (the float32 mish
 * before session 7 ran both sides to the end, two divisions). */
FA_INLINE uint32_t fa32t_mask(int c) { return c ? 0xffffffffu : 0u; }
FA_INLINE float fa32t_sel(uint32_t m, float a, float b)
{
    return fa32_from_bits((fa32_to_bits(a) & m) | (fa32_to_bits(b) & ~m));
}

/* e^r - 1 = r + r^2 P(r) with _f32_exp.h's degree-6 polynomial (FA32_EXPF_P*), P by Estrin
 * rather than Horner: the same operations plus r^2's reuse, 8 cycles less latency. These loops
 * are bound by their dependency chains, not by issue (on this Zen 4, ~90 cycles per iteration,
 * ~5 iterations in flight): 3-5% faster in gelu_tanh and its backward, 1.93 instead of 1.94 ulp
 * in gelu_tanh's worst interval. */
FA_INLINE float fa32t_expm1_poly(float r)
{
    float r2 = r * r;
    float P = fa32_fma(fa32_fma(FA32_EXPF_P4, r2, fa32_fma(FA32_EXPF_P3, r, FA32_EXPF_P2)), r2,
                       fa32_fma(FA32_EXPF_P1, r, FA32_EXPF_P0));
    return fa32_fma(r2, P, r);
}

/* The backward of gelu_tanh meets the accurate bound (2 ulp) with g = 1 already with the fast
 * level's carrying (exhaustive: 1.84 ulp), so by default the accurate level adds the exact
 * folding of g (fa32t_gdiv) and, for every g, the exact x < 0 inner term (session 8, in
 * gelu_tanh_bwd32; 1.46 ulp with it at g = 1). 1: the accurate level also carries E,
 * 1 + E + x w' and the x > 0 products exactly: 0.57 ulp, at 0.65x of the speed. */
#ifndef FA32T_BWD_CARRY
#define FA32T_BWD_CARRY 0
#endif

/* 2^(n+k) and *fm = 2^-k, k = 80 for n < -60 and 0 otherwise: products with 2^n are formed
 * with 2^(n+k), normal for n >= -206, and multiplied by *fm last, so a result near or below
 * 2^-126 is rounded once (fa32_scale's idea), and a backward's g f'(x) keeps its digits where
 * f'(x) alone is below 2^-126 but g f'(x) is not (loss scaling: f'(x) down to 2^-190 for
 * |g| up to 2^64). Powers of 2 commute with every rounding before the last, so k changes no
 * bits while nothing is subnormal or overflows. The scaled f'(x) stays below 2^19 times the
 * formula's factor (at most 2^8: gelu_tanh's |x| w'); fa32t_gscale keeps g times it finite. */
FA_INLINE float fa32t_pow2_k(fa32_exp_t E, float *fm)
{
    uint32_t k = fa32t_mask(E.n < -60.0f) & 80u;
    *fm = fa32_from_bits((127u - k) << 23);
    return fa32_from_bits((fa32_to_bits(E.tm) + k) << 23);
}

/* A backward's g and the factor applied last, for g times f'(x) 2^k (fa32t_pow2_k): 2^-k last
 * (post = fm) while |g| < 2^96, where g f'(x) 2^k < 2^123 cannot overflow; above, g 2^-k first
 * (exact: it stays above 2^16) and post = 1, so the product overflows only where g f'(x) does.
 * A product's low part (fa32t_gdiv) then lies 2^-24 below a result above 2^-110: its rounding
 * into the subnormals costs no more than 2^-17 ulp. */
typedef struct { float g, post; } fa32t_gs_t;
FA_INLINE fa32t_gs_t fa32t_gscale(float g, float fm)
{
    fa32t_gs_t G;
    int big = fa32_to_bits(fa32_abs(g)) >= 0x6f800000u;      /* 2^96 */
    G.g = big ? g * fm : g;
    G.post = big ? 1.0f : fm;
    return G;
}

/* g (n + n_lo) / (D + D_lo) with one division, corrected with its remainder. The accurate level
 * also folds g into the last sum exactly (g q = hi + lo), so that g != 1 adds no second rounding
 * (it would cost up to 0.5-1 ulp of a bound of 2). */
FA_INLINE float fa32t_gdiv(float g, float n, float n_lo, float D, float D_lo, const int acc)
{
    float iv = 1.0f / D;
    float q = n * iv;
    float rem = fa32_fma(-q, D_lo, fa32_fma(-q, D, n) + n_lo);
    if (!acc)
        return g * fa32_fma(rem, iv, q);
    fa32_pair G = fa32_two_prod(g, q);
    return G.hi + fa32_fma(g * rem, iv, G.lo);
}

/* ---- tanh ----------------------------------------------------------------------------------- */

/* The fast level's tables (FA32T_PW_*) and the accurate level's tanh(x) - x = x^3 P(x^2) for
 * |x| <= atanh(1/2) (FA32T_TANH_P4_*), fitted by tools/fit_f32_tanh.py */
#include "_f32_tanh_coef.h"
#define FA32T_ATANH_HALF 0.549306154f   /* atanh(1/2) rounded to nearest (up): every float below it
                                          * is below atanh(1/2) */

/* The fast level (session 9): tanh(a), a = min(|x|, 9.3125), as a polynomial of degree 6 in
 * s = a - C_i on one of 8 intervals of a, the coefficients looked up by i; x's sign bit or-ed in
 * last (f(-0) = -0); no exp, no division. i is the low 3 bits of bits(fma(a, 1.6, 1)) >> 22
 * (an exponent bit and a mantissa bit: two cells per octave of a 1.6 + 1 in [1, 16), so the
 * intervals are [0, .3125), [.3125, .625), [.625, 1.25), [1.25, 1.875), [1.875, 3.125),
 * [3.125, 4.375), [4.375, 6.875), [6.875, 9.3125]: they widen as tanh's poles at +-i pi/2 fall
 * behind and 1 - tanh decays). On the first C = 0, P0 = 0 and P1 = 1, so tanh(x) = x for tiny
 * x and the relative error holds down to the subnormals; every other C_i is within a factor 2
 * of its interval's a, so s is exact. Beyond 9.0109 tanh rounds to 1, and the last polynomial
 * gives 1 at the clamp (tanh(9.3125) = 1 - 2^-25.8), so +-inf gives +-1. The lookup is not
 * arithmetic: vpermps of an 8-float register on AVX2, the same table twice in a zmm on
 * AVX-512 (fa32t_fwd_vec_*), an array index here (the baseline and the loops' last elements),
 * the same float operations in the same order everywhere, so the bits agree (test_isa).
 * Fitted relative error per interval 2^-23.9 (on [4.375, 6.875), where y ~ 1) to 2^-30.2
 * (tools/fit_f32_tanh.py); measured over all 2^32 inputs 1.58 ulp (x = 6.3547; tools/accuracy.py).
 * Not monotonic to the last ulp (the form before was, over every float): over x >= 0 the
 * result steps down by one ulp 120 times, 119 of them in [0.1246, 0.3125), where y = q a
 * rounds q = tanh(a)/a (below 1, ulp 2^-24) before the product, and once at 6.8593. An addend a
 * there (y = fma(q - 1, a, a), as the form before) would cost a permute and an FMA per vector
 * for every interval. Nothing here reads y as monotonic (the backward from the output uses
 * 1 - y^2).
 * Speed (a C harness of the loops alone, 2^20 float32, one Zen 5 core, old and new interleaved
 * in one run, medians of 15): AVX2 2.51 -> 4.02 Gelem/s on standard-normal data, 2.48 -> 3.98 on
 * uniform[-10, 10]; AVX-512 5.35 -> 8.50 and 5.34 -> 8.57. Through fastact.tanh (1M, out=,
 * medians of 25, the build before and this one in turn): AVX2 2.44 -> 3.93 / 2.44 -> 3.97,
 * AVX-512 5.42 -> 8.09 / 5.03 -> 8.29. Vector instructions per vector in gcc's loop (loads,
 * stores and register copies not counted): 23 on AVX2 (and, min, fma, shift, 8 permutes, sub,
 * 6 FMAs, and, or, and the NaN rule's compare and blend), 20 on AVX-512 (vrangeps for abs and
 * min, one vpternlogd merged under the mask of the lanes that are numbers for the sign and the
 * NaN rule), no division; the form before ran 32 on AVX2 with a vdivps.
 * Degree 7 (the same cells at M = 1.5: 2^-26.2 at worst) measured 1.03 ulp and 3.62 / 7.35
 * Gelem/s (normal data, AVX2 / AVX-512, same harness): one permute and one FMA more cost
 * 10-14%. Degree 5 would need more intervals (2^-19.5 at best with 8 such cells); 16 intervals
 * cost AVX2 two permutes and a blend per coefficient.
 * What it replaced: both tanh forms on |x|, x + x^3 P(x^2) (P of degree 3) below atanh(1/2) and
 * 1 - 2/(1 + e^(2|x|)) above (the exp reduced in one FMA fewer, its polynomial by Estrin), one
 * selected: 1.47 ulp (x = 0.5511), the speeds before the arrows above. */
FA_INLINE float fa32t_tanh_fwd_fast(float x)
{
    float a = fa32t_min_pos(fa32_abs(x), FA32T_PW_AMAX);
    uint32_t i = (fa32_to_bits(fa32_fma(a, FA32T_PW_M, 1.0f)) >> 22) & 7u;
    float s = a - FA32T_PW_C[i];
    float q = fa32_fma(FA32T_PW_P[6][i], s, FA32T_PW_P[5][i]);
    q = fa32_fma(q, s, FA32T_PW_P[4][i]);
    q = fa32_fma(q, s, FA32T_PW_P[3][i]);
    q = fa32_fma(q, s, FA32T_PW_P[2][i]);
    q = fa32_fma(q, s, FA32T_PW_P[1][i]);
    q = fa32_fma(q, s, FA32T_PW_P[0][i]);
    return fa32_from_bits(fa32_to_bits(q) | (fa32_to_bits(x) & 0x80000000u));
}
#if FA32T_PW_DEG != 6
#error "fa32t_tanh_fwd_fast and its vector loops evaluate degree 6: FA32T_PW_DEG changed"
#endif

/* The accurate level: x + x^3 P(x^2) (P of degree 4) for |x| < atanh(1/2), where tanh < 1/2
 * (an expm1-based form there reached 2.5 ulp: expm1(2x) is about 2 tanh x, and its rounding
 * weighs double where it lies just above a power of 2 and tanh just below); above it
 * (t - 1)/(t + 1), t = e^(2|x|), corrected (below). 2|x| is clamped at 20 (t = 4.9e8, the result
 * rounds to 1; at 18 it still rounded to 1 - 2^-24). */
FA_INLINE float tanh_fwd32(float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc)
        return fa32t_tanh_fwd_fast(x);
    float a = fa32_abs(x);
    float x2 = x * x;
    float P = fa32_fma(FA32T_TANH_P4_4, x2, FA32T_TANH_P4_3);
    P = fa32_fma(P, x2, FA32T_TANH_P4_2);
    P = fa32_fma(P, x2, FA32T_TANH_P4_1);
    P = fa32_fma(P, x2, FA32T_TANH_P4_0);
    float small = fa32_fma(x * x2, P, x);
    fa32_exp_t E = fa32t_exp_core(fa32t_min_pos(a + a, 20.0f), 0.0f, 1);
    float s = fa32_pow2(E);
    float t = fa32_fma(s, E.t, s);
    /* (t - 1)/(t + 1) with t - 1 = n + n_lo and t + 1 = d + d_lo exactly (Fast2Sum, t >= 3),
     * and the division corrected with its exact remainder, so the last FMA is the only
     * full-size rounding; t's own rounding weighs (1 - y^2)/2 <= 3/8 of an ulp of it */
    float d = t + 1.0f, d_lo = (t - d) + 1.0f;
    float n = t - 1.0f, n_lo = (t - n) - 1.0f;
    float iv = 1.0f / d;
    float q = n * iv;
    float big = fa32_fma(fa32_fma(-q, d_lo, fa32_fma(-q, d, n) + n_lo), iv, q);
    /* big >= 0 takes x's sign bit */
    float big_x = fa32_from_bits(fa32_to_bits(big) | (fa32_to_bits(x) & 0x80000000u));
    /* f(+-0) = +-0: tanh, gelu_tanh and mish are odd at 0, and no formula above keeps the sign
     * of zero through its FMAs and selects on every instruction set, so it is set here */
    return x == 0.0f ? x : (a < FA32T_ATANH_HALF ? small : big_x);
}

/* The fast level's vector loops, the hook _loops.h probes for (FA_VEC_<name>_<dir>_<suffix>, as
 * _f32_gelu.h's): they do the whole vectors and return how many elements they did; the scalar
 * loop does the rest (gcc would turn the lookups into gathers, never into permutes). The NaN rule
 * is the loop's: x as it is. */
#define FA_VEC_tanh_fwd_ff ~, FA32T_VEC_FWD
#define FA32T_VEC_FWD(isa, n, x, y) FA_CAT(fa32t_fwd_vec, isa)(n, x, y)
FA_INLINE npy_intp fa32t_fwd_vec_baseline(npy_intp n, const float *x, float *y)
{
    (void)n; (void)x; (void)y;
    return 0;
}
#if FA_X86_DISPATCH
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4,prefer-vector-width=512")
/* 16 lanes; vpermps (permutexvar) reads an index's low 4 bits, so each table is its 8 entries
 * twice. min(|x|, AMAX) is one vrangeps (imm 0x0a: the smaller magnitude, sign cleared); the
 * sign is or-ed in by one vpternlogd (B | (A & C): 0xec) merged under the mask of the lanes that
 * are numbers, the others keeping x. */
static npy_intp fa32t_fwd_vec_avx512(npy_intp n, const float *xp, float *yp)
{
#define FA32T_Z(T) _mm512_broadcast_f32x8(_mm256_loadu_ps(T))
    const __m512 tc = FA32T_Z(FA32T_PW_C), t0 = FA32T_Z(FA32T_PW_P[0]),
                 t1 = FA32T_Z(FA32T_PW_P[1]), t2 = FA32T_Z(FA32T_PW_P[2]),
                 t3 = FA32T_Z(FA32T_PW_P[3]), t4 = FA32T_Z(FA32T_PW_P[4]),
                 t5 = FA32T_Z(FA32T_PW_P[5]), t6 = FA32T_Z(FA32T_PW_P[6]);
#undef FA32T_Z
    npy_intp i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(xp + i);
        __m512 a = _mm512_range_ps(x, _mm512_set1_ps(FA32T_PW_AMAX), 0x0a);
        __m512 t = _mm512_fmadd_ps(a, _mm512_set1_ps(FA32T_PW_M), _mm512_set1_ps(1.0f));
        __m512i k = _mm512_srli_epi32(_mm512_castps_si512(t), 22);
        __m512 s = _mm512_sub_ps(a, _mm512_permutexvar_ps(k, tc));
        __m512 q = _mm512_fmadd_ps(_mm512_permutexvar_ps(k, t6), s, _mm512_permutexvar_ps(k, t5));
        q = _mm512_fmadd_ps(q, s, _mm512_permutexvar_ps(k, t4));
        q = _mm512_fmadd_ps(q, s, _mm512_permutexvar_ps(k, t3));
        q = _mm512_fmadd_ps(q, s, _mm512_permutexvar_ps(k, t2));
        q = _mm512_fmadd_ps(q, s, _mm512_permutexvar_ps(k, t1));
        q = _mm512_fmadd_ps(q, s, _mm512_permutexvar_ps(k, t0));
        __m512i y = _mm512_mask_ternarylogic_epi32(
            _mm512_castps_si512(x), _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q), _mm512_castps_si512(q),
            _mm512_set1_epi32((int)0x80000000u), 0xec);
        _mm512_storeu_ps(yp + i, _mm512_castsi512_ps(y));
    }
    return i;
}
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
/* 8 lanes: one vpermps per coefficient (it reads an index's low 3 bits) */
static npy_intp fa32t_fwd_vec_avx2(npy_intp n, const float *xp, float *yp)
{
    const __m256 tc = _mm256_loadu_ps(FA32T_PW_C), t0 = _mm256_loadu_ps(FA32T_PW_P[0]),
                 t1 = _mm256_loadu_ps(FA32T_PW_P[1]), t2 = _mm256_loadu_ps(FA32T_PW_P[2]),
                 t3 = _mm256_loadu_ps(FA32T_PW_P[3]), t4 = _mm256_loadu_ps(FA32T_PW_P[4]),
                 t5 = _mm256_loadu_ps(FA32T_PW_P[5]), t6 = _mm256_loadu_ps(FA32T_PW_P[6]);
    const __m256 sgn = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    npy_intp i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(xp + i);
        /* AMAX first: vminps gives its second operand where one is NaN (blended out below) */
        __m256 a = _mm256_min_ps(_mm256_set1_ps(FA32T_PW_AMAX), _mm256_andnot_ps(sgn, x));
        __m256 t = _mm256_fmadd_ps(a, _mm256_set1_ps(FA32T_PW_M), _mm256_set1_ps(1.0f));
        __m256i k = _mm256_srli_epi32(_mm256_castps_si256(t), 22);
        __m256 s = _mm256_sub_ps(a, _mm256_permutevar8x32_ps(tc, k));
        __m256 q = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(t6, k), s,
                                   _mm256_permutevar8x32_ps(t5, k));
        q = _mm256_fmadd_ps(q, s, _mm256_permutevar8x32_ps(t4, k));
        q = _mm256_fmadd_ps(q, s, _mm256_permutevar8x32_ps(t3, k));
        q = _mm256_fmadd_ps(q, s, _mm256_permutevar8x32_ps(t2, k));
        q = _mm256_fmadd_ps(q, s, _mm256_permutevar8x32_ps(t1, k));
        q = _mm256_fmadd_ps(q, s, _mm256_permutevar8x32_ps(t0, k));
        __m256 y = _mm256_or_ps(q, _mm256_and_ps(x, sgn));
        _mm256_storeu_ps(yp + i, _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)));
    }
    return i;
}
#pragma GCC pop_options
#endif

/* tanh'(x) = 4E/(1+E)^2 = 4E/(1 + E(2+E)), E = e^-2|x| = 2^n (1 + t): the denominator is rounded
 * once (the rounding of 2 + E weighs E/(1+E)^2 <= 1/4 of an ulp of it), and E is applied as
 * 2^(n+k) first and 2^-k last (fa32t_pow2_k: k = 80 for n < -60, else 0), so a result near or
 * below 2^-126 is rounded once and a large g keeps its digits. 2|x| is clamped at 142 (E =
 * 2^-204.9, f' = 2^-202.9), where g f'(x) is below 2^-138 for any |g| <= 2^64. Both
 * levels use the degree-6 polynomial: the accurate level's carrying is what its bound needs (the
 * degree-7 one and t carried as hi + lo gave 0.57 ulp at 0.75x the speed). */
FA_INLINE float tanh_bwd32(float g, float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    float a = fa32_abs(x);
    fa32_exp_t E = fa32t_exp_core(-fa32t_min_pos(a + a, 142.0f), 0.0f, 0);
    float fm, s4 = 4.0f * fa32t_pow2_k(E, &fm);
    float num = fa32_fma(s4, E.t, s4);               /* 4 E 2^k */
    float e = fa32t_sel(fa32t_mask(E.n >= -50.0f), num * 0.25f, 0.0f);    /* FA32T_TINY */
    fa32t_gs_t G = fa32t_gscale(g, fm);
    if (!acc) {
        float D = fa32_fma(e, 2.0f + e, 1.0f);
        return (G.g * (num / D)) * G.post;
    }
    /* accurate: 4E = num + num_lo (Fast2Sum of s4 + s4 t), D = 1 + e (2 + e) as D + D_lo (the
     * rounding of 2 + e weighs at most 1/4 of its ulp), the division corrected with its
     * remainder and g folded in exactly (fa32t_gdiv): the fast level's polynomial then costs
     * about 0.5 ulp, which the bound of 2 allows */
    float num_lo = (s4 - num) + s4 * E.t;
    fa32_pair V = fa32_two_prod(e, 2.0f + e);
    float D = 1.0f + V.hi;
    float D_lo = ((fa32t_max_pos(V.hi, 1.0f) - D) + fa32t_min_pos(V.hi, 1.0f)) + V.lo;
    return fa32t_gdiv(G.g, num, num_lo, D, D_lo, 1) * G.post;
}

/* tanh'(x) = 1 - y^2, rounded once by the FMA (correctly rounded for g = 1) */
FA_INLINE float tanh_bwo32(float g, float y, float p0, float p1, const int acc)
{
    (void)p0; (void)p1; (void)acc;
    return g * fa32_fma(-y, y, 1.0f);
}

/* ---- gelu_tanh -------------------------------------------------------------------------------
 * gelu_tanh(x) = x sigmoid(w), w = K x (1 + c x^2), K = 2 sqrt(2/pi), c = 0.044715; with
 * E = e^-|w| (fa32t_exp_core) and d = 1 + E, sigmoid(w) is 1/d for x >= 0 and E/d for x < 0.
 * For x < 0 the result's relative error is |w| times w's absolute error, and |w| reaches 105
 * before the result leaves the subnormals, so w is carried as hi + lo (its absolute error
 * ~2^-30): x^2 exact, K and K c split hi + lo, and every product's rounding kept (FMA). The
 * fast level (fa32t_gelu_tanh_fwd_fast, fa32t_gelu_tanh_bwd_fast) does the same in fewer
 * operations and on silu's lean forms. */
#define FA32T_GT_K 0x1.988454p+0f          /* K = 2 sqrt(2/pi) = HI + LO */
#define FA32T_GT_K_LO -0x1.857936p-25f
#define FA32T_GT_KC 0x1.2444f2p-4f         /* K * 0.044715 = HI + LO */
#define FA32T_GT_KC_LO 0x1.49b16ap-29f
#define FA32T_GT_K3C 0x1.b6676cp-3f        /* 3 K 0.044715 = HI + LO, for w' = K + 3 K c x^2 */
#define FA32T_GT_K3C_LO -0x1.175e2p-32f
/* |x| beyond which the result is x itself (x > 0: E < 2^-150) or below the subnormals (x < 0) */
#define FA32T_GT_XMAX 11.5f

/* FA32T_TINY: E below 2^-50 is dropped (0; for E above it k = 0 and E is used unscaled) where it
 * is only added to 1 or 2 (relative 2^-50 is below every low part kept): E's low part would be
 * subnormal from E < 2^-101 (|x| > 9.1), products of E with its low parts from E < 2^-63, and on
 * this Zen 4 a vector with a subnormal lane takes a microcode assist (measured: the accurate
 * forward ran at 0.3 instead of 0.7 Gelem/s for 9 < |x| < 10). Products with E in the
 * numerator use the scaled E 2^k. */

/* -|w| = -|x| (K + K c x^2) as hi + lo, for a = |x| <= FA32T_GT_XMAX; *x2 = a*a rounded */
FA_INLINE fa32_pair fa32t_gelu_tanh_negw(float a, float *x2)
{
    fa32_pair X2 = fa32_two_prod(a, a);
    float v = FA32T_GT_KC * X2.hi;
    float v_lo = fa32_fma(FA32T_GT_KC_LO, X2.hi,
                          fa32_fma(FA32T_GT_KC, X2.lo, fa32_fma(FA32T_GT_KC, X2.hi, -v)));
    /* u = K + v exactly as u + u_lo: Fast2Sum with the larger operand first (v >= 0) */
    float u = FA32T_GT_K + v;
    float big = fa32t_max_pos(v, FA32T_GT_K), small = fa32t_min_pos(v, FA32T_GT_K);
    float u_lo = ((big - u) + small) + (v_lo + FA32T_GT_K_LO);
    fa32_pair W;
    W.hi = a * u;
    W.lo = fa32_fma(a, u_lo, fa32_fma(a, u, -W.hi));
    W.hi = -W.hi;
    W.lo = -W.lo;
    *x2 = X2.hi;
    return W;
}

/* ---- gelu_tanh, fast level: the lean forms ------------------------------------------------- */

/* y = |w| = a (K + K c a^2) as yh + yl, for a = |x| <= FA32T_GT_XMAX (y <= 127), to ~2^-45 y:
 * the result's relative error for x < 0 is y's absolute error, and y reaches 90 with results
 * still normal. a^2 = x2 + x2l exactly; v = K c x2 and s = K20 + v rounded; s - K20 is exact
 * (K20 is a multiple of 2^-20 and s < 16), so s's rounding error together with v's is one FMA,
 * KC x2 - (s - K20), without ordering K20 and v (a Fast2Sum needs the larger first: two more
 * operations, a max and a min). u = K + KC a^2 = s + u_lo; y = a s + a u_lo with a s exact. */
FA_INLINE fa32_pair fa32t_gt_y_fast(float a)
{
    float x2 = a * a, x2l = fa32_fma(a, a, -x2);
    float s = FA32T_GT_K20 + FA32T_GT_KC * x2;
    float e = fa32_fma(FA32T_GT_KC, x2, -(s - FA32T_GT_K20));
    float u_lo = fa32_fma(FA32T_GT_KC, x2l, fa32_fma(FA32T_GT_KC_LO, x2, FA32T_GT_K20_LO)) + e;
    fa32_pair Y;
    Y.hi = a * s;
    Y.lo = fa32_fma(a, u_lo, fa32_fma(a, s, -Y.hi));
    return Y;
}

/* e^-(yh + yl) = (1 + t) 2^n for yh in [0, 143]: t returned, *sk = 2^(n+k) straight from the
 * magic sum, magic = 1.5 2^23 + 127 + k (FA32_MAGIC64, k = 64: n down to -190; FA32T_MAGIC80,
 * k = 80: n down to -206). The reduction of _f32_exp.h's lean exp, with the low part added to
 * -n LN2_LO and then to r once: r's rounding, 2^-26 at most, is a relative 2^-26 in e^r
 * (fa32_expm1_fast's exact r + r_lo costs three more operations). */
#define FA32T_MAGIC80 0x1.80019ep23f
FA_INLINE float fa32t_exp_neg_fast(float yh, float yl, const float magic, float *sk)
{
    float tm = fa32_fma(-yh, FA32_LOG2E, magic);
    float n = tm - magic;
    float r = fa32_fma(n, -FA32_LN2_HI, -yh) + fa32_fma(n, -FA32_LN2_LO, -yl);
    *sk = fa32_from_bits(fa32_to_bits(tm) << 23);
    return fa32t_expm1_poly(r);
}

/* gelu_tanh at the fast level: silu_fwd32's form on w. With E = e^-y = (1 + t) 2^n, the
 * negative side's magnitude is F = a E/(1 + E), and gelu_tanh(x) = x - gelu_tanh(-x) gives the
 * positive side as a - F, in the last FMA (F <= a/2: F's error counts at most once, no
 * selects of the numerator). N = a E 2^64 = fma(t, a 2^(n+64), a 2^(n+64)) in one rounding;
 * one division y0 = N/(1 + E), corrected with the remainder against the unrounded 1 + E:
 * y0 (1 + E) - N = (y0 - N) + y0 E, y0 - N exact (y0 is in [N/2, N]); F 2^64 is scaled by
 * 2^-64 in the last FMA, so results near 2^-126 round once. N's own rounding is not carried:
 * it costs up to ~0.6 ulp where N lies just above a power of 2 and the result just below one
 * (exhaustive: 1.20 ulp with it carried, fma(m, t, m - N) in the remainder, at 0.91x the
 * speed: 62 instead of 56 AVX-512 instructions per 16 lanes). E is floored at 2^-50 (where it
 * only joins 1) so that it is never subnormal: on this Zen 4 a vector with a subnormal lane
 * takes a microcode assist (x < -10.05 would). */
FA_INLINE float fa32t_gelu_tanh_fwd_fast(float x)
{
    float a = fa32t_min_pos(fa32_abs(x), FA32T_GT_XMAX);
    fa32_pair Y = fa32t_gt_y_fast(a);
    float s64, t = fa32t_exp_neg_fast(Y.hi, Y.lo, FA32_MAGIC64, &s64);
    float E64 = fa32_fma(t, s64, s64);
    float E = fa32t_max_pos(E64, 0x1p14f) * 0x1p-64f;
    float m = a * s64;
    float N = fa32_fma(t, m, m);
    float d = 1.0f + E;
    float y0 = N / d;
    float rem = fa32_fma(y0, E, y0 - N);
    float f = fa32_fma(rem, fa32_neg_recip_lin(d), y0);
    /* x itself for x >= 0, -0 for x < 0, by the sign mask: beyond the clamp (x > 11.5)
     * F = f 2^-64 is 2^-179.5 and vanishes beside x, so x comes back with no select of its
     * own (the bits of the selects it replaced, all 2^32 inputs compared; AVX2 51 -> 46
     * vector instructions per 8 lanes, +2%) */
    uint32_t xb = fa32_to_bits(x);
    float base = fa32_from_bits(xb & ~((uint32_t)((int32_t)xb >> 31) >> 1));
    return fa32_fma(f, -0x1p-64f, base);
}

/* Accurate level: x >= 0: x/d; x < 0: x E/d, with E = (1 + t + t_lo) 2^n applied as 2^(n+k)
 * first and 2^-k last (fa32t_pow2_k), so results near 2^-126 round once. */
FA_INLINE float gelu_tanh_fwd32(float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc)
        return fa32t_gelu_tanh_fwd_fast(x);
    float a = fa32t_min_pos(fa32_abs(x), FA32T_GT_XMAX);
    float x2;
    fa32_pair W = fa32t_gelu_tanh_negw(a, &x2);
    fa32_exp_t E = fa32t_exp_core(W.hi, W.lo, 2 * acc);
    float fm, s64 = fa32t_pow2_k(E, &fm);
    float xs = a * s64;                             /* |x| 2^(n+k); the sign goes in last */
    uint32_t live = fa32t_mask(E.n >= -50.0f);      /* FA32T_TINY; then k = 0 */
    uint32_t neg = fa32t_mask(x < 0.0f);
    /* accurate: E = (p + p_lo) 2^n, d = 1 + E as d + d_lo, the numerator as hi + lo, and the
     * division corrected with its exact remainder */
    float e = fa32t_sel(live, s64 * E.p, 0.0f);
    float e_lo = fa32t_sel(live, s64 * E.p_lo, 0.0f);
    fa32_pair D = fa32_fast2sum(1.0f, e);
    float d_lo = D.lo + e_lo;
    fa32_pair N = fa32_two_prod(xs, E.p);
    float n = fa32t_sel(neg, N.hi, x);
    float n_lo = fa32t_sel(neg, fa32_fma(xs, E.p_lo, N.lo), 0.0f);
    float iv = 1.0f / D.hi;
    float q = n * iv;
    float y = q + fa32_div_fix(q, n, n_lo, D.hi, d_lo, iv);
    return x == 0.0f ? x : fa32t_sel(neg, y * -fm, x > FA32T_GT_XMAX ? x : y);  /* +-0 */
}

/* gelu_tanh' at the fast level, x <= 0 first: f' = f b with f = sigmoid(-|w|) = E/(1 + E) and
 * b = 1 - |x| w' (1 - f) = z + |x| w' f, z = 1 - |x| w' (w' = K + 3 K c x^2). z is exact for
 * |x| w' >= 1/2 (Sterbenz, or 1 a multiple of its ulp), so b is rounded once where it cancels
 * towards the root at -0.7525; its error there is absolute (counted in ulps of 1/8).
 * f = f0 + fl from one division, f0 = E/(1 + E) rounded, fl from the remainder against the
 * unrounded 1 + E (as fa32_sig_lean) and E's own rounding (E80_lo: the numerator's 0.5 ulp cost
 * up to 1 ulp of f'), both kept apart: f b = P.hi + lo, P = f0 b exactly, lo holding fl b and
 * the rounding of |x| w' (L). x > 0: f'(x) = 1 - f'(-x) (gelu(x) - gelu(-x) = x), 1 - P as
 * T + T_lo exactly, so one formula serves both sides with no cancellation for x > 0 (f'(-x)
 * <= 1/2). E is kept as E 2^80 (FA32T_MAGIC80), the products are scaled by 2^80 and g is applied
 * before the last rounding, g 2^-40 for |g| >= 1 (g f' 2^40 stays below 2^108), else g, and
 * 2^-40 or 2^-80 last: one rounding into the subnormals, and g f'(x) exact for |g| up to 2^87,
 * normal down to x = -11.9 for |g| up to 2^67 (loss scaling; there f' is 2^-193): |x| is
 * clamped at 12, not 11.5. Dropped as not worth their operations (sampled, random g in [-2, 2]:
 * 3.2 ulp with them dropped, 2.3 with all): w''s rounding (w' = fma(3 K c, x^2, K)), b's
 * rounding, 1 - |x| w' inexact for |x| w' < 1/2 (|x| < 0.31, where b > 1/2). */
#define FA32T_GT_XMAX_BWD 12.0f
FA_INLINE float fa32t_gelu_tanh_bwd_fast(float g, float x)
{
    float a = fa32t_min_pos(fa32_abs(x), FA32T_GT_XMAX_BWD);
    fa32_pair Y = fa32t_gt_y_fast(a);
    float s80, t = fa32t_exp_neg_fast(Y.hi, Y.lo, FA32T_MAGIC80, &s80);
    float E80 = fa32_fma(t, s80, s80);
    float E80_lo = fa32_fma(t, s80, s80 - E80);
    float E = fa32t_max_pos(E80, 0x1p30f) * 0x1p-80f;        /* >= 2^-50: never subnormal */
    float f0 = E80 / (1.0f + E);
    float fl = (fa32_fma(-f0, E, E80 - f0) + E80_lo) * fa32_fma(f0, -0x1p-80f, 1.0f);
    float wp = fa32_fma(FA32T_GT_K3C, a * a, FA32T_GT_K);
    float aw = a * wp, L = fa32_fma(a, wp, -aw);             /* |x| w' = aw + L */
    float z = 1.0f - aw;
    float b = fa32_fma(aw * 0x1p-80f, f0, z);
    /* b's rounding, carried (session 8): z - b is exact where it matters (b is within a
     * factor 2 of z except near x = -0.62, where z = 1 - aw crosses 0 and f' is near its root,
     * counted in units of 1/8), so b_lo is b's residual; without it the unrounded g f' was
     * off by up to 3.52 x 2^-24 relative (x = -1.4224, C harness), where |f'| is just above
     * 1/8 and the O(1) terms' errors weigh 8x: g = -1.9383 gave 4.15 ulp at x = -1.396,
     * over the bound of 4. With it 3.03 x 2^-24, so <= 3.53 ulp for every g. */
    float b_lo = fa32_fma(aw * 0x1p-80f, f0, z - b);
    fa32_pair P = fa32_two_prod(f0, b);
    float lo = fa32_fma(f0, -L, fa32_fma(fl, b, fa32_fma(f0, b_lo, P.lo)));
    /* x > 0: 1 - f'(-x) = T + T_lo (2^80 - T exact, Sterbenz: T in [2^79, 1.13 2^80]) */
    float T = fa32_fma(P.hi, -1.0f, 0x1p80f);
    float T_lo = ((0x1p80f - T) - P.hi) - lo;
    int neg = x < 0.0f;
    float H = neg ? P.hi : T, Lo = neg ? lo : T_lo;
    /* |g| >= 2^40: g 2^-80 up front (g f' cannot overflow unless it does), else 2^-80 last */
    int big = fa32_to_bits(fa32_abs(g)) >= 0x53800000u;
    float gp = big ? g * 0x1p-80f : g;
    float post = big ? 1.0f : 0x1p-80f;
    float r = fa32_fma(gp, H, gp * Lo);
    /* g = +-inf: inf * 0 or inf - inf in gp * Lo; g = 0: -0 + +0 */
    r = fa32_abs(r) > 0.0f ? r : gp * H;
    return r * post;
}

/* Accurate level: gelu_tanh'(x) = s (1 + x (1 - s) w'), s = sigmoid(w), w' = K + 3 K c x^2,
 * which over the common denominator D = (1 + E)^2 is
 *   x < 0:  E (1 + E + x w') / D        x >= 0:  (1 + E + x w' E) / D
 * (E scaled last for x < 0, as in the forward). 1 + E + x w' cancels towards the root at
 * -0.7525, so its parts are exact (1 + E and w' as hi + lo, x w' and the sum for x < 0 as
 * pairs); E and D = 1 + E (2 + E) are carried as hi + lo and the one division is
 * corrected with its remainder. */
FA_INLINE float gelu_tanh_bwd32(float g, float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1;
    if (!acc)
        return fa32t_gelu_tanh_bwd_fast(g, x);
    const int carry = acc && FA32T_BWD_CARRY;
    float a = fa32t_min_pos(fa32_abs(x), FA32T_GT_XMAX_BWD);   /* as the fast level's */
    float x2;
    fa32_pair W = fa32t_gelu_tanh_negw(a, &x2);
    fa32_exp_t E = fa32t_exp_core(W.hi, W.lo, 2 * carry);
    float fm, s64 = fa32t_pow2_k(E, &fm);
    uint32_t neg = fa32t_mask(x < 0.0f);
    float es = fa32_fma(s64, E.t, s64);             /* E 2^k = es + es_lo */
    float es_lo = ((s64 - es) + s64 * E.t) + (carry ? s64 * E.t_lo : 0.0f);
    uint32_t live = fa32t_mask(E.n >= -50.0f);      /* FA32T_TINY; then k = 0 */
    float e = fa32t_sel(live, es, 0.0f), e_lo = fa32t_sel(live, es_lo, 0.0f);
    /* w' = K + 3Kc x^2 = wp + wp_lo (x^2's rounding, both constants' and the sum's) */
    fa32_pair X2 = fa32_two_prod(a, a);
    float v = FA32T_GT_K3C * X2.hi;
    float v_lo = fa32_fma(FA32T_GT_K3C_LO, X2.hi,
                          fa32_fma(FA32T_GT_K3C, X2.lo, fa32_fma(FA32T_GT_K3C, X2.hi, -v)));
    float wp = FA32T_GT_K + v;
    float wp_lo = ((fa32t_max_pos(v, FA32T_GT_K) - wp) + fa32t_min_pos(v, FA32T_GT_K))
                  + (v_lo + FA32T_GT_K_LO);
    float ope = 1.0f + e, ope_lo = ((1.0f - ope) + e) + e_lo;     /* 1 + E exactly */
    /* D = 1 + E (2 + E) = D + D_lo */
    float c = 2.0f + e, c_lo = ((2.0f - c) + e) + e_lo;
    fa32_pair V = fa32_two_prod(e, c);
    float D = 1.0f + V.hi;
    float D_lo = ((fa32t_max_pos(V.hi, 1.0f) - D) + fa32t_min_pos(V.hi, 1.0f))
                 + fa32_fma(e, c_lo, fa32_fma(e_lo, c, V.lo));
    /* x < 0: inner = 1 + E - |x| w', carried exactly (session 8): rounded, its error was up
     * to 1.64 x 2^-24 of g f' (x = -6.448, C harness over every 5th input), which a g putting
     * g f' high in its binade turns into 2.14 ulp (found: 2.001 at x = -5.2049, g = -1.198),
     * over the accurate bound of 2; carried, 1.16 x 2^-24 (<= 1.66 ulp for every g), seven
     * operations more */
    float in_lo = fa32_fma(-a, wp_lo, ope_lo);
    float inner;
    {
        fa32_pair M = fa32_two_prod(-a, wp);
        inner = ope + M.hi;                          /* 2Sum: either may be the larger */
        float bv = inner - ope;
        in_lo += ((ope - (inner - bv)) + (M.hi - bv)) + M.lo;
    }
    fa32_pair N = fa32_two_prod(es, inner);
    float n_neg_lo = fa32_fma(es, in_lo, fa32_fma(es_lo, inner, N.lo));
    /* x >= 0: 1 + E + |x| w' E, no cancellation (|x| w' E < 1 + E); FA32T_BWD_CARRY carries
     * the product exactly (rounded, it costs 0.5 ulp near x = 0.73) */
    float pos, pos_lo;
    if (carry) {
        fa32_pair AW = fa32_two_prod(a, wp);
        float P = AW.hi * e;
        float P_lo = fa32_fma(AW.hi, e, -P) + fa32_fma(AW.hi, e_lo, fa32_fma(a, wp_lo, AW.lo) * e);
        pos = ope + P;
        pos_lo = (((ope - pos) + P) + ope_lo) + P_lo;
    } else {
        float aw = a * wp;
        pos = fa32_fma(aw, e, ope);
        pos_lo = fa32_fma(aw, e_lo, ope_lo);
    }
    float n = fa32t_sel(neg, N.hi, pos);
    float n_lo = fa32t_sel(neg, n_neg_lo, pos_lo);
    fa32t_gs_t G = fa32t_gscale(g, fa32t_sel(neg, fm, 1.0f));
    return fa32t_gdiv(G.g, n, n_lo, D, D_lo, acc) * G.post;
}

/* ---- mish ------------------------------------------------------------------------------------
 * mish(x) = x tanh(softplus(x)), both levels, evaluated in double: float32 in, float32 out, and
 * every rounding but the last 2^-53, so the one conversion to float32 is the error that counts.
 * With E = e^-|x| (the double mish_fwd's rational forms, which never cancel):
 *   x < 0: x E c / (2 + E c),  c = 2 + E        x >= 0: x N / (N + 2E^2),  N = 1 + 2E
 *   mish'(x) = E (c D + 4x(1 + E)) / D^2 (x < 0),  (N D + 4x(1 + E) E^2) / D^2 (x >= 0),
 * D the forward's denominator; c D + 4x(1 + E) cancels towards the root of mish' at -1.1924, to
 * an absolute error of about 2^-50 (tools/accuracy.py counts ulps of 2^-26 there). E in double
 * needs no scaling: at the clamp |x| = 200 it is 2^-288.5, where mish(x) = -2^-281 and
 * g mish'(x) < 2^-150 for every finite float32 g; above it x enters only as itself (x > 0,
 * N / D = 1) and -inf gives -0.
 * It replaced (session 7) float32 forms at each level: E by a degree-6 float32 polynomial (fast)
 * or carried as hi + lo (accurate), the products and the one division corrected with their
 * exact errors; they gave (fast / accurate) forward 1.41 / 0.97 ulp, backward 1.92 / 1.92, at
 * 1.36 / 1.02 and 0.92 / 0.93 Gelem/s (1M, one Zen 5 core, AVX-512). This form: 0.54 ulp both
 * ways (the header's table), 1.9 and 1.45 Gelem/s (bench/accurate_vs_double.py). */
#define FA32T_MISH_AMAX 200.0f
/* e^r on |r| <= ln2/2: Chebyshev interpolation of degree 6, 2^-28.5 relative (so the result,
 * rounded once to float32, is within 0.545 ulp in theory) */
#define FA32T_MISH_P0 0.9999999999595485
#define FA32T_MISH_P1 1.000000037727448
#define FA32T_MISH_P2 0.5000000107749609
#define FA32T_MISH_P3 0.16666415477237934
#define FA32T_MISH_P4 0.0416662182737357
#define FA32T_MISH_P5 0.008375128890288368
#define FA32T_MISH_P6 0.0013948580860890908
#define FA32T_MISH_LN2 0.6931471805599453

/* the parts of both directions: a = |x| clamped, E = e^-a, c = 2 + E, N = 1 + 2E, D */
typedef struct { double a, E, c, N, D; int neg; } fa32t_mish_t;
FA_INLINE fa32t_mish_t fa32t_mish_parts(float x)
{
    fa32t_mish_t M;
    M.a = fa32t_min_pos(fa32_abs(x), FA32T_MISH_AMAX);
    /* n = round(-a log2 e) by the shifter, r = -a - n ln2 (the product exact in the FMA; ln 2's
     * rounding, 2^-53 relative, times |n| <= 289), 2^n a normal double */
    double sh = FA_MULADD(-M.a, FA_LOG2E, FA_SHIFTER);
    double n = sh - FA_SHIFTER;
    double r = FA_MULADD(n, -FA32T_MISH_LN2, -M.a);
    double p = FA_MULADD(FA_MULADD(FA_MULADD(FA32T_MISH_P6, r, FA32T_MISH_P5), r, FA32T_MISH_P4),
                         r, FA32T_MISH_P3);
    p = FA_MULADD(FA_MULADD(FA_MULADD(p, r, FA32T_MISH_P2), r, FA32T_MISH_P1), r, FA32T_MISH_P0);
    M.E = p * fa_bits_to_double((fa_double_to_bits(sh) + 1023) << 52);
    M.neg = x < 0.0f; /* +-0 take the x > 0 forms: x N / D = +-0, N / D = 3/5 */
    M.c = M.E + 2.0;
    M.N = FA_MULADD(2.0, M.E, 1.0);
    double Ec = M.E * M.c;
    M.D = M.neg ? Ec + 2.0 : FA_MULADD(M.E + M.E, M.E, M.N);
    return M;
}

FA_INLINE float mish_fwd32(float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1; (void)acc;
    fa32t_mish_t M = fa32t_mish_parts(x);
    double num = M.neg ? M.E * M.c : M.N;
    return (float)((M.neg ? -M.a : (double)x) * num / M.D);
}

FA_INLINE float mish_bwd32(float g, float x, float p0, float p1, const int acc)
{
    (void)p0; (void)p1; (void)acc;
    fa32t_mish_t M = fa32t_mish_parts(x);
    double t = 4.0 * (M.neg ? -M.a : M.a) * (1.0 + M.E);
    double num = M.neg ? M.E * FA_MULADD(M.c, M.D, t) : FA_MULADD(M.N, M.D, t * (M.E * M.E));
    return (float)((double)g * (num / (M.D * M.D)));
}

#endif
