/* NumPy ufunc inner loops, written once for every kernel: the ufunc's `data` is its fa_kernel.
 *
 * Operands: forward (x, p0.., out), backward (grad_output, x, p0.., out). Contiguous float32 or
 * float64 operands with scalar parameters go straight to the vector loop. Anything else (strided
 * views, float16, parameters that vary along the loop) is gathered in blocks of FA_BLOCK into
 * contiguous buffers of the compute type, run through the same vector loop, and scattered back,
 * so every path gives the same bits. Parameters are read in the compute type (float32 for
 * float16). NumPy calls these loops directly, without the entry points' MXCSR restore (and may
 * convert float16 in software, raising flags through the x87 unit too), so the loops clear the
 * flags they raise with <fenv.h>. */
#include <fenv.h>
#define FA_BLOCK 256
/* float32 loops are chosen by precision level, float64 has one */
#define FA_AT_LEVEL_f(loops, level) (loops)[level]
#define FA_AT_LEVEL_d(loops, level) (loops)

static inline float fa_load_e(const char *p) { _Float16 h; memcpy(&h, p, 2); return (float)h; }
static inline void fa_store_e(char *p, float v) { _Float16 h = (_Float16)v; memcpy(p, &h, 2); }
static inline float fa_load_f(const char *p) { float v; memcpy(&v, p, 4); return v; }
static inline void fa_store_f(char *p, float v) { memcpy(p, &v, 4); }
static inline double fa_load_d(const char *p) { double v; memcpy(&v, p, 8); return v; }
static inline void fa_store_d(char *p, double v) { memcpy(p, &v, 8); }

/* SUF: dtype letter; T: its size source; CT: compute type; CS: compute suffix (f or d). */
#define FA_UFUNC_LOOPS(SUF, T, CT, CS)                                                            \
    static void fa_fwd_##SUF##_loop(char **args, npy_intp const *dims, npy_intp const *steps,    \
                                    void *data)                                                  \
    {                                                                                            \
        const fa_kernel *K = (const fa_kernel *)data;                                            \
        const int np = K->nparams, level = fa_level();                                           \
        const npy_intp n = dims[0], sx = steps[0], sy = steps[np + 1];                           \
        const char *x = args[0];                                                                 \
        char *y = args[np + 1];                                                                  \
        int uniform = 1;                                                                         \
        for (int j = 0; j < np; j++) uniform &= steps[1 + j] == 0;                               \
        CT p[2] = {0, 0};                                                                        \
        for (int j = 0; j < np; j++) p[j] = fa_load_##CS(args[1 + j]);                          \
        if (uniform && sizeof(T) == sizeof(CT) && sx == sizeof(T) && sy == sizeof(T)) {          \
            fa_forward_##CS(K, level, n, (const CT *)x, (CT *)y, p[0], p[1]);                           \
            return;                                                                              \
        }                                                                                        \
        CT bx[FA_BLOCK], bp[2][FA_BLOCK];                                                        \
        const int raised = fetestexcept(FE_ALL_EXCEPT);                                         \
        for (npy_intp i0 = 0; i0 < n; i0 += FA_BLOCK) {                                          \
            const npy_intp m = n - i0 < FA_BLOCK ? n - i0 : FA_BLOCK;                            \
            for (npy_intp i = 0; i < m; i++) bx[i] = fa_load_##SUF(x + (i0 + i) * sx);          \
            if (uniform) {                                                                       \
                FA_AT_LEVEL_##CS(K->fwd_##CS, level)[fa_isa](m, bx, bx, p[0], p[1]);             \
            } else {                                                                             \
                for (int j = 0; j < 2; j++)                                                      \
                    for (npy_intp i = 0; i < m; i++)                                             \
                        bp[j][i] = j < np ? fa_load_##CS(args[1 + j] + (i0 + i) * steps[1 + j]) \
                                          : 0;                                                   \
                FA_AT_LEVEL_##CS(K->fwd_##CS##_arr, level)[fa_isa](m, bx, bx, bp[0], bp[1]);     \
            }                                                                                    \
            for (npy_intp i = 0; i < m; i++) fa_store_##SUF(y + (i0 + i) * sy, bx[i]);          \
        }                                                                                        \
        feclearexcept(FE_ALL_EXCEPT & ~raised);                                                  \
    }                                                                                            \
    FA_UFUNC_BWD_LOOP(SUF, T, CT, CS, bwd, 0)                                                    \
    FA_UFUNC_BWD_LOOP(SUF, T, CT, CS, bwo, 1)
#define FA_UFUNC_BWD_LOOP(SUF, T, CT, CS, dir, from_output)                                      \
    static void fa_##dir##_##SUF##_loop(char **args, npy_intp const *dims, npy_intp const *steps, \
                                    void *data)                                                  \
    {                                                                                            \
        const fa_kernel *K = (const fa_kernel *)data;                                            \
        const int np = K->nparams, level = fa_level();                                           \
        const npy_intp n = dims[0], sg = steps[0], sx = steps[1], sy = steps[np + 2];            \
        const char *g = args[0], *x = args[1];                                                   \
        char *y = args[np + 2];                                                                  \
        int uniform = 1;                                                                         \
        for (int j = 0; j < np; j++) uniform &= steps[2 + j] == 0;                               \
        CT p[2] = {0, 0};                                                                        \
        for (int j = 0; j < np; j++) p[j] = fa_load_##CS(args[2 + j]);                          \
        if (uniform && sizeof(T) == sizeof(CT) && sg == sizeof(T) && sx == sizeof(T) &&          \
            sy == sizeof(T)) {                                                                   \
            fa_backward_##CS(K, level, from_output, n, (const CT *)g, (const CT *)x, (CT *)y, p[0], p[1]); \
            return;                                                                              \
        }                                                                                        \
        CT bg[FA_BLOCK], bx[FA_BLOCK], bp[2][FA_BLOCK];                                          \
        const int raised = fetestexcept(FE_ALL_EXCEPT);                                         \
        for (npy_intp i0 = 0; i0 < n; i0 += FA_BLOCK) {                                          \
            const npy_intp m = n - i0 < FA_BLOCK ? n - i0 : FA_BLOCK;                            \
            for (npy_intp i = 0; i < m; i++) {                                                   \
                bg[i] = fa_load_##SUF(g + (i0 + i) * sg);                                        \
                bx[i] = fa_load_##SUF(x + (i0 + i) * sx);                                        \
            }                                                                                    \
            if (uniform) {                                                                       \
                FA_AT_LEVEL_##CS(K->dir##_##CS, level)[fa_isa](m, bg, bx, bx, p[0], p[1]);       \
            } else {                                                                             \
                for (int j = 0; j < 2; j++)                                                      \
                    for (npy_intp i = 0; i < m; i++)                                             \
                        bp[j][i] = j < np ? fa_load_##CS(args[2 + j] + (i0 + i) * steps[2 + j]) \
                                          : 0;                                                   \
                FA_AT_LEVEL_##CS(K->dir##_##CS##_arr, level)[fa_isa](m, bg, bx, bx, bp[0], bp[1]); \
            }                                                                                    \
            for (npy_intp i = 0; i < m; i++) fa_store_##SUF(y + (i0 + i) * sy, bx[i]);          \
        }                                                                                        \
        feclearexcept(FE_ALL_EXCEPT & ~raised);                                                  \
    }
FA_UFUNC_LOOPS(e, _Float16, float, f)
FA_UFUNC_LOOPS(f, float, float, f)
FA_UFUNC_LOOPS(d, double, double, d)

/* Integer and bool relu keep their dtype: max(x, 0) is exact there (unsigned and bool: a copy). */
#define FA_INT_RELU(SUF, T)                                                                      \
    static void fa_relu_##SUF##_loop(char **args, npy_intp const *dims, npy_intp const *steps,   \
                                     void *data)                                                 \
    {                                                                                            \
        (void)data;                                                                              \
        for (npy_intp i = 0; i < dims[0]; i++) {                                                 \
            T v;                                                                                 \
            memcpy(&v, args[0] + i * steps[0], sizeof v);                                        \
            v = v < 0 ? 0 : v;                                                                   \
            memcpy(args[1] + i * steps[1], &v, sizeof v);                                        \
        }                                                                                        \
    }
FA_INT_RELU(b, npy_byte) FA_INT_RELU(h, npy_short) FA_INT_RELU(i, npy_int) FA_INT_RELU(l, npy_long)
FA_INT_RELU(q, npy_longlong)
/* unsigned and bool: the comparison is never true; one copy loop per width */
FA_INT_RELU(B, npy_ubyte) FA_INT_RELU(H, npy_ushort) FA_INT_RELU(I, npy_uint) FA_INT_RELU(L, npy_ulong)
FA_INT_RELU(Q, npy_ulonglong)

/* Loops and type codes in the order NumPy should try them: the first loop the inputs cast to
 * safely wins, so bool and the integers come before the floats. */
static PyUFuncGenericFunction FA_INT_RELU_LOOPS[] = {
    fa_relu_B_loop, fa_relu_b_loop, fa_relu_B_loop, fa_relu_h_loop, fa_relu_H_loop,
    fa_relu_i_loop, fa_relu_I_loop, fa_relu_l_loop, fa_relu_L_loop, fa_relu_q_loop, fa_relu_Q_loop};
static const char FA_INT_RELU_TYPES[] = {
    NPY_BOOL, NPY_BYTE, NPY_UBYTE, NPY_SHORT, NPY_USHORT, NPY_INT, NPY_UINT, NPY_LONG,
    NPY_ULONG, NPY_LONGLONG, NPY_ULONGLONG};
#define FA_N_INT_RELU ((int)sizeof FA_INT_RELU_TYPES)

static PyUFuncGenericFunction FA_FWD_LOOPS[] = {fa_fwd_e_loop, fa_fwd_f_loop, fa_fwd_d_loop};
static PyUFuncGenericFunction FA_BWD_LOOPS[] = {fa_bwd_e_loop, fa_bwd_f_loop, fa_bwd_d_loop};
static PyUFuncGenericFunction FA_BWO_LOOPS[] = {fa_bwo_e_loop, fa_bwo_f_loop, fa_bwo_d_loop};
static const char FA_FLOAT_TYPES[] = {NPY_HALF, NPY_FLOAT, NPY_DOUBLE};
/* Parameter operands come in the compute type: a float16 loop takes float32 parameters, so
 * elu(x16, 1.3) applies alpha = 1.3 in float32 instead of rounding it to float16 first. */
static const char FA_PARAM_TYPES[] = {NPY_FLOAT, NPY_FLOAT, NPY_DOUBLE};
