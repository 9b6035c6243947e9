#pragma once
// Causal self-attention for one new query over cached keys and values (incremental decoding,
// model/decoder.h): the row attention_forward (attention.h) computes for the last position of a
// sequence, without recomputing the others.
//   q    [C]              this position's query, NH heads of size hs = C/NH (RoPE already applied)
//   kt   [C, ldk]         cached keys, transposed: channel c of key j at kt[c·ldk + j]
//   v    [T, ldv]         cached values: channel c of value j at v[j·ldv + c]
//   out  [C]              heads concatenated
//   att  [T]              scratch
// Keys and values 0..T-1 must include this position's own (the causal mask admits it), so T >= 1.
// Scores are scaled by 1/sqrt(hs) and the softmax subtracts the row max, as in attention_forward;
// the summation order differs, so results agree with it to float rounding, not bit for bit.
// Keys are stored transposed so the scores are hs vectorised multiply-adds over keys rather than T
// short dot products (the layout argument of attention.cpp). Runs on the calling thread.

namespace scalinglab::kernels::cpu {

void attention_decode_forward(float* out, float* att, const float* q, const float* kt, long ldk, const float* v,
                              long ldv, int T, int C, int NH);

}  // namespace scalinglab::kernels::cpu
