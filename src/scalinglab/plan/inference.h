#pragma once
// Inference-aware allocation (Sardana, Doubov & Frankle 2024, "Beyond Chinchilla-Optimal:
// Accounting for Inference in Language Model Scaling Laws"): a model that will serve T tokens
// costs 6·N·D_train + 2·N·T FLOPs over its lifetime. For the loss ℓ the training-only optimum
// reaches with budget C, find the (N, D_train) on the iso-loss curve L(N, D) = ℓ that minimises
// that lifetime cost: smaller and longer-trained as T grows.
#include <cmath>

#include "scalinglab/plan/surface.h"

namespace scalinglab::plan {

struct LifetimePlan {
  double n = NAN, d = NAN, loss = NAN;
  double train_flops = NAN, inference_flops = NAN, total_flops = NAN;
};

struct InferenceAware {
  double inference_tokens = 0;
  LifetimePlan training_only;    // the compute-optimal plan for C, plus its inference cost
  LifetimePlan inference_aware;  // same loss, least lifetime FLOPs
  double saving() const { return 1 - inference_aware.total_flops / training_only.total_flops; }
};

// NaN fields in inference_aware when the training-only optimum cannot be found.
InferenceAware inference_aware(const Surface& s, double compute, double inference_tokens);

}  // namespace scalinglab::plan
