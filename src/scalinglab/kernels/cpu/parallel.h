#pragma once
// When a kernel opens an OpenMP parallel region. Every region start wakes the team's workers
// (several µs each under OMP_WAIT_POLICY=passive, more than the kernel itself for one row), so
// the row-wise and element-wise kernels run on the calling thread when their work is small:
// one position of incremental decoding (model/decoder.h) calls each of them on a single row.
// The split never changes a result (rows and elements are independent), only who computes it.
namespace scalinglab::kernels::cpu {

// Floats of work (rows × row length, or elements) below which a kernel stays serial.
inline constexpr long kParallelMinWork = 1L << 14;
inline bool parallel_worth(long work) { return work >= kParallelMinWork; }

}  // namespace scalinglab::kernels::cpu
