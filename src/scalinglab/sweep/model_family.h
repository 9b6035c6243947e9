#pragma once
// How a model family grows with its target size. Kaplan et al. 2020 (§3.1, Fig. 5) found the loss
// nearly flat over aspect ratios d_model/n_layer from ~20 to ~200 at fixed N, so a family keeps the
// ratio fixed and derives depth and width from N: with N_non-embedding ≈ 12·L·d² and d = r·L,
// L = (N / (12 r²))^(1/3). Heads follow from a fixed head size. The rule is written down here
// because badly shaped small models bend the fitted law.
#include "scalinglab/model/gpt_config.h"

namespace scalinglab::sweep {

struct FamilyRule {
  double aspect = 32;    // d_model / n_layer
  int head_dim = 32;     // d_model / n_head (one head when d_model is smaller)
  int d_multiple = 16;   // d_model is rounded to a multiple of this (vector-friendly)
  int ctx = 128;
  int vocab = 256;       // the byte tokenizer
  int max_layers = 24;
  // Depth never below this. Some abilities need depth more than width (copying through an
  // induction head takes two layers, Olsson et al. 2022), so an emergence family may start at 2
  // layers and grow in width; the smallest members then sit below the ideal aspect ratio.
  int min_layers = 1;
  bool rope = false;     // rotary position embeddings (GptConfig::rope) instead of learned ones
};

// The family member whose total parameter count is closest (in log) to n_target, with the aspect
// ratio within [aspect/2, 2·aspect] (closest to `aspect` among near-ties), and at least
// min_layers layers (narrower than aspect/2 where the width allows no other shape).
model::GptConfig shape_for_params(double n_target, const FamilyRule& rule);

}  // namespace scalinglab::sweep
