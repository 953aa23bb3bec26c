/* float32 math at two precision levels: gelu, the erf form. The contract is _f32_exp.h's.
 *
 * STAGING: the bodies below still compute in double through the float64 formulas; they are
 * being replaced by float32 SIMD math.
 */
#ifndef FASTACT_F32_GELU_H
#define FASTACT_F32_GELU_H

FA_VIA_DOUBLE_FWD32(gelu) FA_VIA_DOUBLE_BWD32(gelu)

#endif
