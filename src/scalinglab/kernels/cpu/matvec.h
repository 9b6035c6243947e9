#pragma once
// One row of a fully connected layer, in matmul_forward's layout (matmul.h):
//   out[OC] = inp[C] · weight[OC,C]ᵀ + bias[OC]      (bias may be null)
// The matrix-vector product of incremental decoding (model/decoder.h), where matmul_forward
// with N = 1 pays for a blocked GEMM's packing of the whole weight and a 12-row micro-tile
// holding one row: measured 5-15× slower per call (e.g. C=128, OC=384: 28 µs vs ~5 µs, one
// thread, dev box) and more under OMP_WAIT_POLICY=passive.
//
// Runs on the calling thread (no OpenMP), so many decoders can call it concurrently. Each output
// is one dot product over c in a fixed order per build, so results are deterministic but differ
// from matmul_forward's in the last bits (another summation order).
// Precision::bf16 rounds inp and weight to bfloat16 (round to nearest even, as the GEMM's
// packing does) and accumulates in fp32; it needs no special CPU support here.
#include "scalinglab/kernels/cpu/gemm.h"

namespace scalinglab::kernels::cpu {

void matvec_forward(float* out, const float* inp, const float* weight, const float* bias, int C, int OC,
                    Precision p = Precision::fp32);

// x rounded to the nearest bfloat16 (ties to even), returned as a float. NaN stays NaN.
float round_to_bf16(float x);

}  // namespace scalinglab::kernels::cpu
