#pragma once
// Fully connected layer in torch.nn.Linear's layout: out[N,OC] = inp[N,C] · weight[OC,C]ᵀ + bias[OC]
// (bias may be null, e.g. the tied output head). Backed by OpenBLAS sgemm.

namespace scalinglab::kernels::cpu {

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC);
// dinp [N,C] += dout·weight; dweight [OC,C] += doutᵀ·inp; dbias [OC] += Σ_n dout. Any of
// dinp / dweight / dbias may be null to skip it.
void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp, const float* weight,
                     int N, int C, int OC);

// Hand-written forward (OpenMP over rows, register-blocked, vectorised over C) kept as the
// measured alternative to sgemm for small shapes and as an independent check in the tests.
// Numerically it sums in a different order than sgemm, so results differ in the last bits.
void matmul_forward_naive(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC);

}  // namespace scalinglab::kernels::cpu
