/* Contiguous loops for every kernel in FASTACT_KERNELS, stamped once per instruction set.
 * Included by _kernels.h with FA_ISA set and a matching `#pragma GCC target` in force.
 *
 * Two loops per kernel, direction and type: parameters as scalars (the common case), and
 * parameters as arrays running beside x (PReLU's per-channel weight, broadcast ufunc operands).
 * `ivdep` tells gcc that iterations are independent: y may be x (or grad_output) itself, which is
 * safe element by element, and without it gcc would guard the vector loop with an overlap test
 * that sends in-place calls down the scalar path. A NaN x is returned as it is (forward) or
 * passed through (backward), so the NaN's sign and payload do not depend on which operand the
 * compiler put first in an instruction set's multiply; the NATIVE forward formulas do that
 * themselves (their only NaN operand is x). */
#define FA_CAT_(a, b) a##_##b
#define FA_CAT(a, b) FA_CAT_(a, b)
/* A kernel may bring its own vector loop for a contiguous loop (name, direction, suffix) by
 * defining FA_VEC_<name>_<dir>_<suffix> as `~, MACRO`, MACRO(isa, n, [g,] x, y) calling a function
 * that does the leading elements on that instruction set and returns how many; the loop below
 * does the rest. Without it (every other kernel) the count is the constant 0. gelu's fast level
 * uses it (_f32_gelu.h): its table lookups need permutes, which gcc does not generate. */
#define FA_VEC_SECOND_(a, b, ...) b
#define FA_VEC_SECOND(...) FA_VEC_SECOND_(__VA_ARGS__)
#define FA_VEC_PICK(probe) FA_VEC_SECOND(probe, FA_VEC_NONE, ~)
#define FA_VEC_NONE(...) ((npy_intp)0)
/* A formula may ask for a copy of its scalar-parameter loop for p0 == 1, in which it sees the
 * literal 1, by defining FA_UNIT_P0_<name>_<dir>_<suffix> as `~, 1` (the same probe): softplus'
 * fast level (_f32_exp.h), for which beta = 1 makes beta x exact and its low part 0. Without it
 * (every other loop) the test is the constant 0 and compiles away. */
#define FA_UNIT_P0(probe) FA_VEC_SECOND(probe, 0, ~)
#define FA_BWD_LOOPS_T(name, dir, T, S)                                                           \
    static void FA_CAT(name##_##dir##_##S, FA_ISA)(npy_intp n, const T *g, const T *x, T *y, T p0, \
                                                    T p1)                                         \
    {                                                                                             \
        npy_intp i0 = FA_VEC_PICK(FA_VEC_##name##_##dir##_##S)(FA_ISA, n, g, x, y);              \
        if (FA_UNIT_P0(FA_UNIT_P0_##name##_##dir##_##S) && p0 == (T)1) {                          \
            _Pragma("GCC ivdep") for (npy_intp i = i0; i < n; i++) {                              \
                T gi = g[i], xi = x[i];                                                           \
                y[i] = xi != xi ? xi : name##_##dir##_##S(gi, xi, (T)1, p1);                      \
            }                                                                                     \
            return;                                                                               \
        }                                                                                         \
        _Pragma("GCC ivdep") for (npy_intp i = i0; i < n; i++) {                                  \
            T gi = g[i], xi = x[i];                                                               \
            y[i] = xi != xi ? xi : name##_##dir##_##S(gi, xi, p0, p1);                            \
        }                                                                                         \
    }                                                                                             \
    static void FA_CAT(name##_##dir##_##S##_arr, FA_ISA)(npy_intp n, const T *g, const T *x, T *y, \
                                                          const T *p0, const T *p1)               \
    {                                                                                             \
        _Pragma("GCC ivdep") for (npy_intp i = 0; i < n; i++) {                                   \
            T gi = g[i], xi = x[i];                                                               \
            y[i] = xi != xi ? xi : name##_##dir##_##S(gi, xi, p0[i], p1[i]);                      \
        }                                                                                         \
    }
/* NAN_SELECT(xi, expr): the loop's NaN rule for a forward formula, `xi != xi ? xi : expr`;
 * NATIVE formulas and WIDE's fast level pass NaN through themselves (see _kernels.h) and skip
 * the test. */
#define FA_NAN_SELECT(xi, expr) ((xi) != (xi) ? (xi) : (expr))
#define FA_NAN_PASSES(xi, expr) (expr)
#define FA_LOOPS_T(name, T, S, NAN)                                                               \
    static void FA_CAT(name##_fwd_##S, FA_ISA)(npy_intp n, const T *x, T *y, T p0, T p1)        \
    {                                                                                             \
        npy_intp i0 = FA_VEC_PICK(FA_VEC_##name##_fwd_##S)(FA_ISA, n, x, y);                      \
        _Pragma("GCC ivdep") for (npy_intp i = i0; i < n; i++) {                                  \
            T xi = x[i];                                                                          \
            y[i] = NAN(xi, name##_fwd_##S(xi, p0, p1));                                           \
        }                                                                                         \
    }                                                                                             \
    static void FA_CAT(name##_fwd_##S##_arr, FA_ISA)(npy_intp n, const T *x, T *y, const T *p0, \
                                                      const T *p1)                                \
    {                                                                                             \
        _Pragma("GCC ivdep") for (npy_intp i = 0; i < n; i++) {                                   \
            T xi = x[i];                                                                          \
            y[i] = NAN(xi, name##_fwd_##S(xi, p0[i], p1[i]));                                     \
        }                                                                                         \
    }                                                                                             \
    FA_BWD_LOOPS_T(name, bwd, T, S)
#define FA_BWO_LOOPS_SAME(name) FA_BWD_LOOPS_T(name, bwo, float, f) FA_BWD_LOOPS_T(name, bwo, double, d)
#define FA_BWO_LOOPS_OWN(name) FA_BWO_LOOPS_SAME(name)
#define FA_BWO_LOOPS_NONE(name)
/* MATH and WIDE kernels have a second float32 level, _ff (fast); _f is the accurate one */
#define FA_FAST_LOOPS_NATIVE(name)
#define FA_FAST_LOOPS_MATH(name) FA_LOOPS_T(name, float, ff, FA_NAN_SELECT)
#define FA_FAST_LOOPS_WIDE(name) FA_LOOPS_T(name, float, ff, FA_NAN_PASSES)
#define FA_FAST_BWO_NATIVE(name, bwo)
#define FA_FAST_BWO_MATH(name, bwo) FA_FAST_BWO_LOOPS_##bwo(name)
#define FA_FAST_BWO_WIDE(name, bwo) FA_FAST_BWO_LOOPS_##bwo(name)
#define FA_NAN_RULE_NATIVE FA_NAN_PASSES
#define FA_NAN_RULE_WIDE FA_NAN_SELECT
#define FA_NAN_RULE_MATH FA_NAN_SELECT
#define FA_FAST_BWO_LOOPS_OWN(name) FA_BWD_LOOPS_T(name, bwo, float, ff)
#define FA_FAST_BWO_LOOPS_NONE(name)
#define FA_LOOPS_MAIN(name, np, kind, keeps_int, bwo)                                             \
    FA_LOOPS_T(name, float, f, FA_NAN_RULE_##kind) FA_LOOPS_T(name, double, d, FA_NAN_RULE_##kind) \
    FA_FAST_LOOPS_##kind(name)
#define FA_LOOPS_BWO(name, np, kind, keeps_int, bwo) FA_BWO_LOOPS_##bwo(name) FA_FAST_BWO_##kind(name, bwo)
/* The includer picks what to stamp of each kind: FA_STAMP_<kind> (1 or 0) for the forward and
 * backward loops, FA_STAMP_BWO_<kind> for the backward from the output, so that one instruction
 * set can compile the memory-bound loops under other tuning (see _kernels.h). */
#define FA_MAIN_WHEN_1 FA_LOOPS_MAIN
#define FA_MAIN_WHEN_0(...)
#define FA_BWO_WHEN_1 FA_LOOPS_BWO
#define FA_BWO_WHEN_0(...)
#define FA_LOOPS_SEL(name, np, kind, keeps_int, bwo)                                              \
    FA_CAT(FA_MAIN_WHEN, FA_STAMP_##kind)(name, np, kind, keeps_int, bwo)                        \
    FA_CAT(FA_BWO_WHEN, FA_STAMP_BWO_##kind)(name, np, kind, keeps_int, bwo)
FASTACT_KERNELS(FA_LOOPS_SEL)

/* PReLU's grad_weight term over one block of n elements: the sum of g x over the x <= 0 and NaN
 * x (x = y / w in float64 where per_element, from the output y), in float64, on 16 accumulators
 * (element i into accumulator i mod 16, in order), added pairwise at the end. 16 independent
 * chains, whatever the vector width: 2 zmm of doubles, 4 ymm or 8 xmm hold them, so every
 * instruction set adds the same values in the same order and gives the same bits (no
 * reassociation: gcc vectorizes across the chains, never along one). Blocks shorter than 16 on
 * 4 (i mod 4, the last n mod 4 into the first), the scheme of the sum before (compiled in
 * _kernels.pyx, SSE2): 16 accumulators' set-up cost blocks of 10 elements 30-65%, and
 * fa_negsums forms a row's terms at once for them. A float32 product is exact in float64.
 * Which NaN a NaN sum ends with depends on the operands' order in each instruction, which gcc
 * chooses (its vector tail, peeled for alignment, differs from its scalar one: two calls on the
 * same values gave NaNs of either sign), so a NaN sum comes back as the one quiet NaN
 * 0x7ff8000000000000; whether it is NaN depends on the terms and their fixed order alone. The
 * product's bits are masked, not selected: gcc made the select a branch per element on SSE2
 * (random signs mispredict), and the mask vectorizes there too. Stamped with the memory-bound
 * loops. */
#if FA_STAMP_MEM
FA_INLINE double FA_CAT(fa_negpart, FA_ISA)(double g, double v)
{
    double p = g * v;
    uint64_t b;
    memcpy(&b, &p, sizeof b);
    b &= (uint64_t)(v > 0.0) - 1u; /* all ones where v <= 0 or NaN */
    memcpy(&p, &b, sizeof p);
    return p;
}
/* the sum of n < 16 terms t: 4 accumulators (i mod 4, the last n mod 4 into the first) */
FA_INLINE double FA_CAT(fa_negsum4, FA_ISA)(npy_intp n, const double *t)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, v;
    npy_intp i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += t[i];
        s1 += t[i + 1];
        s2 += t[i + 2];
        s3 += t[i + 3];
    }
    for (; i < n; i++)
        s0 += t[i];
    v = (s0 + s1) + (s2 + s3);
    return v == v ? v : fa_bits_to_double(0x7ff8000000000000u);
}
/* element i's term, x divided by w where per_element */
#define FA_NEGTERM(g, x, i, per_element, w)                                                        \
    FA_CAT(fa_negpart, FA_ISA)((double)(g)[i],                                                    \
                               (per_element) ? (double)(x)[i] / (w) : (double)(x)[i])
/* fa_negsum1's 16 accumulators over [i, n), pe a constant (the test out of the loop): element
 * i + k into a[k], 16 at a time, then the last n - i into a[0], a[1], ... */
#define FA_NEGACC(pe)                                                                             \
    for (; i + 16 <= n; i += 16)                                                                  \
        for (int k = 0; k < 16; k++)                                                              \
            a[k] += FA_NEGTERM(g, x, i + k, pe, w);                                               \
    for (int k = 0; i + k < n; k++)                                                               \
        a[k] += FA_NEGTERM(g, x, i + k, pe, w);
#define FA_NEGSUM_T(T, S)                                                                         \
    FA_INLINE double FA_CAT(fa_negsum1_##S, FA_ISA)(npy_intp n, const T *g, const T *x,          \
                                                    int per_element, double w)                   \
    {                                                                                             \
        double a[16] = {0.0}, v;                                                                  \
        npy_intp i = 0;                                                                           \
        if (n < 16) {                                                                             \
            for (; i < n; i++)                                                                    \
                a[i] = FA_NEGTERM(g, x, i, per_element, w);                                        \
            return FA_CAT(fa_negsum4, FA_ISA)(n, a);                                              \
        }                                                                                         \
        if (per_element) {                                                                        \
            FA_NEGACC(1)                                                                          \
        } else {                                                                                  \
            FA_NEGACC(0)                                                                          \
        }                                                                                         \
        for (int k = 0; k < 8; k++)                                                               \
            a[k] += a[k + 8];                                                                     \
        for (int k = 0; k < 4; k++)                                                               \
            a[k] += a[k + 4];                                                                     \
        v = (a[0] + a[2]) + (a[1] + a[3]);                                                        \
        return v == v ? v : fa_bits_to_double(0x7ff8000000000000u);                              \
    }                                                                                             \
    static double FA_CAT(fa_negsum_##S, FA_ISA)(npy_intp n, const T *g, const T *x,              \
                                                 int per_element, double w)                      \
    {                                                                                             \
        return FA_CAT(fa_negsum1_##S, FA_ISA)(n, g, x, per_element, w);                           \
    }                                                                                             \
    /* sums[c - c0] += the terms of channel c (c0 <= c < c1) of x viewed as (outer, channels, */ \
    /* inner), C order, w[c] its weight: block by block in the order of outer, each block in */  \
    /* pieces of FA_GW_BLOCK elements from its start, in order */                                \
    static void FA_CAT(fa_negsums_##S, FA_ISA)(npy_intp outer, npy_intp channels, npy_intp inner, \
                                                npy_intp c0, npy_intp c1, const T *g, const T *x, \
                                                const double *w, int per_element, double *sums)   \
    {                                                                                             \
        if (inner <= 0)                                                                           \
            return;                                                                               \
        if (inner == 1) { /* (N, C): a row's channels side by side, each sum its own chain */    \
            for (npy_intp o = 0; o < outer; o++) {                                                \
                const T *gr = g + o * channels, *xr = x + o * channels;                           \
                for (npy_intp c = c0; c < c1; c++)                                                \
                    sums[c - c0] += FA_NEGTERM(gr, xr, c, per_element, w[c]);                      \
            }                                                                                     \
            return;                                                                               \
        }                                                                                         \
        if (inner < 16) { /* short blocks: a row's terms at once, then each block's sum */       \
            double t[1024];                                                                       \
            npy_intp per = 1024 / inner; /* channels per batch */                                 \
            for (npy_intp o = 0; o < outer; o++)                                                  \
                for (npy_intp b0 = c0; b0 < c1; b0 += per) {                                      \
                    npy_intp b1 = c1 - b0 < per ? c1 : b0 + per, at = (o * channels + b0) * inner; \
                    if (per_element)                                                              \
                        for (npy_intp c = b0; c < b1; c++)                                        \
                            for (npy_intp i = 0; i < inner; i++)                                  \
                                t[(c - b0) * inner + i] =                                         \
                                    FA_NEGTERM(g + at, x + at, (c - b0) * inner + i, 1, w[c]);     \
                    else                                                                          \
                        for (npy_intp i = 0; i < (b1 - b0) * inner; i++)                          \
                            t[i] = FA_NEGTERM(g + at, x + at, i, 0, 1.0);                          \
                    for (npy_intp c = b0; c < b1; c++)                                            \
                        sums[c - c0] += FA_CAT(fa_negsum4, FA_ISA)(inner, t + (c - b0) * inner);  \
                }                                                                                 \
            return;                                                                               \
        }                                                                                         \
        for (npy_intp o = 0; o < outer; o++)                                                      \
            for (npy_intp c = c0; c < c1; c++) {                                                  \
                npy_intp at = (o * channels + c) * inner;                                         \
                for (npy_intp p = 0; p < inner; p += FA_GW_BLOCK)                                 \
                    sums[c - c0] += FA_CAT(fa_negsum1_##S, FA_ISA)(                               \
                        inner - p < FA_GW_BLOCK ? inner - p : FA_GW_BLOCK, g + at + p, x + at + p, \
                        per_element, w[c]);                                                       \
            }                                                                                     \
    }
FA_NEGSUM_T(float, f)
FA_NEGSUM_T(double, d)
#undef FA_NEGSUM_T
#undef FA_NEGACC
#undef FA_NEGTERM
#endif
#undef FA_LOOPS_SEL
#undef FA_MAIN_WHEN_1
#undef FA_MAIN_WHEN_0
#undef FA_BWO_WHEN_1
#undef FA_BWO_WHEN_0
#undef FA_LOOPS_MAIN
#undef FA_LOOPS_BWO
#undef FA_LOOPS_T
#undef FA_BWD_LOOPS_T
#undef FA_BWO_LOOPS_SAME
#undef FA_BWO_LOOPS_OWN
#undef FA_BWO_LOOPS_NONE
#undef FA_FAST_LOOPS_NATIVE
#undef FA_FAST_LOOPS_MATH
#undef FA_FAST_LOOPS_WIDE
#undef FA_FAST_BWO_NATIVE
#undef FA_FAST_BWO_MATH
#undef FA_FAST_BWO_WIDE
#undef FA_FAST_BWO_LOOPS_OWN
#undef FA_FAST_BWO_LOOPS_NONE
#undef FA_NAN_SELECT
#undef FA_NAN_PASSES
#undef FA_NAN_RULE_NATIVE
#undef FA_NAN_RULE_WIDE
#undef FA_NAN_RULE_MATH
#undef FA_VEC_SECOND_
#undef FA_VEC_SECOND
#undef FA_VEC_PICK
#undef FA_VEC_NONE
#undef FA_UNIT_P0
