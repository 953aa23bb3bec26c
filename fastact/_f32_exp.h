/* float32 math at two precision levels: the shared float32 building blocks (exp, expm1) and the
 * exp family (sigmoid, silu, softplus, elu, selu, celu).
 *
 * Contract of every kernel NAME here and in _f32_tanh.h and _f32_gelu.h (kind MATH in
 * FASTACT_KERNELS):
 *   float NAME_fwd32(float x, float p0, float p1, const int acc)
 *   float NAME_bwd32(float g, float x, float p0, float p1, const int acc)   grad_output * f'(x)
 *   float NAME_bwo32(float g, float y, float p0, float p1, const int acc)   from the output y
 *                                                                           (OWN kernels only)
 * acc = 0 is the fast level (forward <= 2 ulp, backward <= 4 ulp over every float32 input whose
 * result is a normal float32), acc = 1 the accurate level (<= 1 ulp forward, <= 2 backward).
 * A NaN x never reaches them (the loop returns it); +-inf must give the limits. They are
 * branch-free (selects only) so gcc vectorizes the loops, use FMA only through fa32_fma (one
 * rounding on every instruction set), and never an approximate reciprocal, so every
 * instruction set gives the same bits.
 *
 * STAGING: the bodies below still compute in double through the float64 formulas; they are
 * being replaced by float32 SIMD math.
 */
#ifndef FASTACT_F32_EXP_H
#define FASTACT_F32_EXP_H

#define FA_VIA_DOUBLE_FWD32(name)                                                                  \
    FA_INLINE float name##_fwd32(float x, float p0, float p1, const int acc)                      \
    { (void)acc; return (float)name##_fwd(x, p0, p1, 0); }
#define FA_VIA_DOUBLE_BWD32(name)                                                                  \
    FA_INLINE float name##_bwd32(float g, float x, float p0, float p1, const int acc)             \
    { (void)acc; return (float)name##_bwd(g, x, p0, p1, 0); }
#define FA_VIA_DOUBLE_BWO32(name)                                                                  \
    FA_INLINE float name##_bwo32(float g, float y, float p0, float p1, const int acc)             \
    { (void)acc; return (float)name##_bwo(g, y, p0, p1, 0); }

FA_VIA_DOUBLE_FWD32(sigmoid) FA_VIA_DOUBLE_BWD32(sigmoid) FA_VIA_DOUBLE_BWO32(sigmoid)
FA_VIA_DOUBLE_FWD32(silu) FA_VIA_DOUBLE_BWD32(silu)
FA_VIA_DOUBLE_FWD32(softplus) FA_VIA_DOUBLE_BWD32(softplus) FA_VIA_DOUBLE_BWO32(softplus)
FA_VIA_DOUBLE_FWD32(elu) FA_VIA_DOUBLE_BWD32(elu) FA_VIA_DOUBLE_BWO32(elu)
FA_VIA_DOUBLE_FWD32(selu) FA_VIA_DOUBLE_BWD32(selu) FA_VIA_DOUBLE_BWO32(selu)
FA_VIA_DOUBLE_FWD32(celu) FA_VIA_DOUBLE_BWD32(celu) FA_VIA_DOUBLE_BWO32(celu)

#endif
