#include "scalinglab/sweep/model_family.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace scalinglab::sweep {

model::GptConfig shape_for_params(double n_target, const FamilyRule& rule) {
  // Integer depths alone give sizes ~3x apart at the small end, too coarse for an IsoFLOP profile,
  // so the width may leave the ideal aspect ratio by up to 2x either way; among shapes that hit
  // the target about equally well, the one closest to the ideal ratio wins.
  model::GptConfig best{};
  double best_score = std::numeric_limits<double>::infinity();
  for (int layers = std::max(1, rule.min_layers); layers <= rule.max_layers; ++layers) {
    for (int d = rule.d_multiple; d <= 4 * rule.aspect * layers; d += rule.d_multiple) {
      double aspect = static_cast<double>(d) / layers;
      // Below aspect/2 only the narrowest one-layer model, or (min_layers > 1) any width at the
      // minimum depth: the family's small end then grows in width alone.
      const bool narrow_ok = rule.min_layers > 1 ? layers == rule.min_layers : (layers == 1 && d == rule.d_multiple);
      if (aspect < rule.aspect / 2 && !narrow_ok) continue;
      if (aspect > rule.aspect * 2) break;
      int heads = std::max(1, d / rule.head_dim);
      while (d % heads != 0) --heads;
      model::GptConfig c{rule.vocab, rule.ctx, d, layers, heads, rule.rope};
      double score = std::fabs(std::log(static_cast<double>(c.params_total()) / n_target)) +
                     0.05 * std::fabs(std::log(aspect / rule.aspect));
      if (score < best_score) {
        best_score = score;
        best = c;
      }
    }
  }
  return best;
}

}  // namespace scalinglab::sweep
