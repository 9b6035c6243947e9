#pragma once
// LayerNorm over the last axis (Ba et al. 2016), eps = 1e-5 as torch.nn.LayerNorm / GPT-2:
// out = (x - mean) * rstd * w + b, with rstd = 1/sqrt(var + eps) and the biased variance.
// mean and rstd ([N] each) are saved for the backward pass.

namespace scalinglab::kernels::cpu {

inline constexpr float kLayerNormEps = 1e-5f;

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight, const float* bias,
                       int N, int C);
// dinp [N,C] += input gradient (= with accumulate_dinp false: dinp is then only written);
// dweight, dbias [C] += parameter gradients.
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                        const float* weight, const float* mean, const float* rstd, int N, int C,
                        bool accumulate_dinp = true);

}  // namespace scalinglab::kernels::cpu
