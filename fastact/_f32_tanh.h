/* float32 math at two precision levels: tanh and the functions built on it, gelu_tanh and mish.
 * The contract is _f32_exp.h's, whose building blocks this file uses.
 *
 * STAGING: the bodies below still compute in double through the float64 formulas; they are
 * being replaced by float32 SIMD math.
 */
#ifndef FASTACT_F32_TANH_H
#define FASTACT_F32_TANH_H

FA_VIA_DOUBLE_FWD32(tanh) FA_VIA_DOUBLE_BWD32(tanh) FA_VIA_DOUBLE_BWO32(tanh)
FA_VIA_DOUBLE_FWD32(gelu_tanh) FA_VIA_DOUBLE_BWD32(gelu_tanh)
FA_VIA_DOUBLE_FWD32(mish) FA_VIA_DOUBLE_BWD32(mish)

#endif
