#pragma once
// Fully connected layer in torch.nn.Linear's layout: out[N,OC] = inp[N,C] · weight[OC,C]ᵀ + bias[OC]
// (bias may be null, e.g. the tied output head). Runs on our own blocked kernels (gemm.h) when
// the CPU has AVX-512, else on OpenBLAS sgemm (fp32 only); matmul_backend() says which.
// Precision::bf16 rounds both operands to bfloat16 and accumulates in fp32 (gemm.h); it throws
// std::runtime_error on a CPU without AVX512-BF16.
#include "scalinglab/kernels/cpu/gemm.h"

namespace scalinglab::kernels::cpu {

// "avx512" (own kernels) or "openblas". The environment variable SCALINGLAB_MATMUL=openblas
// forces OpenBLAS for fp32 (for A/B benchmarks; read once).
const char* matmul_backend();

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC,
                    Precision p = Precision::fp32);
// dinp [N,C] += dout·weight; dweight [OC,C] += doutᵀ·inp; dbias [OC] += Σ_n dout. Any of
// dinp / dweight / dbias may be null to skip it. accumulate_dinp = false makes it dinp =
// dout·weight (dinp is only written, so it need not be zeroed first); the parameter
// gradients always accumulate.
void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp, const float* weight,
                     int N, int C, int OC, Precision p = Precision::fp32, bool accumulate_dinp = true);

// Hand-written forward (OpenMP over rows, register-blocked, vectorised over C) kept as the
// measured alternative to sgemm for small shapes and as an independent check in the tests.
// Numerically it sums in a different order than sgemm, so results differ in the last bits.
void matmul_forward_naive(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC);

}  // namespace scalinglab::kernels::cpu
