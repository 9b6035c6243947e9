#pragma once
// Our own blocked matrix multiply (the Goto/BLIS scheme: pack B into column panels, pack a
// block of A into row panels, run a register-blocked micro-kernel over them; Goto & van de
// Geijn 2008, "Anatomy of High-Performance Matrix Multiplication"), in two precisions:
//   fp32  AVX-512F micro-kernel, 12×32 tile, fp32 FMA;
//   bf16  AVX512-BF16 micro-kernel, same tile: A and B are rounded to bfloat16 (round to
//         nearest even) while packing and multiplied with VDPBF16PS, which accumulates pairs
//         of products in fp32 (the "bf16 inputs, fp32 accumulation" scheme of mixed-precision
//         training, Micikevicius et al. 2018 / Kalamkar et al. 2019 for bfloat16).
// Both kernels are compiled with target attributes, so the rest of the build does not need
// AVX-512; callers ask gemm_available() and fall back to OpenBLAS (matmul.cpp).
//
// Determinism: every C element is the sum over k in a fixed order (K in fixed chunks of
// kKc, each chunk one FMA chain in the micro-kernel, chunks added to C in order). The split
// of C into per-thread blocks does not change any element's arithmetic, so results are
// bit-identical for any thread count and any run.
#include <string>

namespace scalinglab::kernels::cpu {

enum class Precision { fp32, bf16 };
const char* precision_name(Precision p);
// "fp32" / "bf16"; throws std::invalid_argument naming the accepted values otherwise.
Precision parse_precision(const std::string& s);

bool cpu_has_avx512();       // AVX-512 F+BW+VL+DQ (runtime check)
bool cpu_has_avx512_bf16();  // the above plus AVX512-BF16
// Whether gemm() can run in precision p on this CPU.
bool gemm_available(Precision p);
// Throws std::runtime_error with a one-line reason when p is not available here (bf16 on a
// CPU without AVX512-BF16).
void require_precision(Precision p);

// A strided read-only matrix view: element (i, j) is at p[i·rs + j·cs].
struct MatView {
  const float* p;
  long rs, cs;
};

// C[M,N] (row stride ldc) = (accumulate ? C : 0) + (bias ? bias[j] : 0) + Σ_k A(i,k)·B(k,j).
// A is M×K, B is K×N. Parallel over blocks of C with OpenMP (call from serial code).
// Requires gemm_available(p).
void gemm(int M, int N, int K, MatView A, MatView B, float* C, long ldc, const float* bias, bool accumulate,
          Precision p);

// The same product computed by the team of the enclosing OpenMP parallel region: every thread of
// the team must call it with the same arguments; each computes its own rectangle of C, and there
// is no barrier at the end (the caller adds one if it reads C). Lets one parallel region hold
// several GEMMs (matmul_backward's dX and dW): with OMP_WAIT_POLICY=passive every region start
// wakes the sleeping workers, which cost ~15% of the d=64 step. Requires gemm_available(p)
// (checked by the caller: an exception cannot leave a parallel region). Same results as gemm().
void gemm_team(int M, int N, int K, MatView A, MatView B, float* C, long ldc, const float* bias, bool accumulate,
               Precision p);

}  // namespace scalinglab::kernels::cpu
