#include "scalinglab/train/adamw.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace scalinglab::train {

AdamW::AdamW(std::vector<ParamTensor> table, size_t n_params, AdamWConfig config)
    : table_(std::move(table)), config_(config), m_(n_params, 0.0f), v_(n_params, 0.0f) {
  if (!(config.beta1 >= 0 && config.beta1 < 1) || !(config.beta2 >= 0 && config.beta2 < 1))
    throw std::invalid_argument("AdamW: betas must be in [0, 1)");
  if (!(config.eps > 0) || !(config.weight_decay >= 0)) throw std::invalid_argument("AdamW: eps must be > 0 and weight decay >= 0");
  std::vector<const ParamTensor*> sorted;
  for (const auto& t : table_) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  size_t next = 0;
  for (const auto* t : sorted) {
    if (t->offset != next)
      throw std::invalid_argument("AdamW: tensor '" + t->name + "' starts at " + std::to_string(t->offset) +
                                  (t->offset < next ? " inside the previous tensor" : " leaving a gap") +
                                  " (expected offset " + std::to_string(next) + ")");
    if (t->offset + t->size > n_params)
      throw std::invalid_argument("AdamW: tensor '" + t->name + "' ends past the " + std::to_string(n_params) +
                                  "-parameter buffer");
    next = t->offset + t->size;
    if (t->size == 0) continue;
    if (!runs_.empty() && runs_.back().decay == t->is_matrix)
      runs_.back().end = next;
    else
      runs_.push_back({t->offset, next, t->is_matrix});
  }
  if (next != n_params)
    throw std::invalid_argument("AdamW: tensors cover " + std::to_string(next) + " of " + std::to_string(n_params) +
                                " parameters");
}

void AdamW::step(float* params, const float* grads, double lr) {
  ++t_;
  const auto& c = config_;
  // Scalars are formed in double and rounded once, as torch does with Python floats.
  const float b1 = static_cast<float>(c.beta1), one_minus_b1 = static_cast<float>(1.0 - c.beta1);
  const float b2 = static_cast<float>(c.beta2), one_minus_b2 = static_cast<float>(1.0 - c.beta2);
  const double bc1 = 1.0 - std::pow(c.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(c.beta2, static_cast<double>(t_));
  const float step_size = static_cast<float>(lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float eps = static_cast<float>(c.eps);
  const float decay = static_cast<float>(1.0 - lr * c.weight_decay);
  float* m = m_.data();
  float* v = v_.data();
#pragma omp parallel
  for (const Run& r : runs_) {
    const bool dec = r.decay && c.weight_decay != 0.0;
    const long begin = static_cast<long>(r.begin), end = static_cast<long>(r.end);
#pragma omp for schedule(static) nowait
    for (long i = begin; i < end; ++i) {
      float p = params[i];
      if (dec) p *= decay;
      const float g = grads[i];
      const float mi = m[i] * b1 + one_minus_b1 * g;
      const float vi = v[i] * b2 + one_minus_b2 * g * g;
      const float denom = std::sqrt(vi) / bc2_sqrt + eps;
      m[i] = mi;
      v[i] = vi;
      params[i] = p - step_size * (mi / denom);
    }
  }
}

void AdamW::restore(uint64_t step_count, std::span<const float> m, std::span<const float> v) {
  if (m.size() != m_.size() || v.size() != v_.size())
    throw std::invalid_argument("AdamW: restoring moments of " + std::to_string(m.size()) + " parameters into an optimizer of " +
                                std::to_string(m_.size()));
  std::copy(m.begin(), m.end(), m_.begin());
  std::copy(v.begin(), v.end(), v_.begin());
  t_ = step_count;
}

double grad_norm(const float* grads, size_t n) {
  constexpr size_t kBlock = 1 << 16;
  const long blocks = static_cast<long>((n + kBlock - 1) / kBlock);
  std::vector<double> partial(blocks, 0.0);
#pragma omp parallel for schedule(static)
  for (long b = 0; b < blocks; ++b) {
    size_t lo = static_cast<size_t>(b) * kBlock, hi = std::min(n, lo + kBlock);
    double s = 0;
    for (size_t i = lo; i < hi; ++i) s += static_cast<double>(grads[i]) * grads[i];
    partial[b] = s;
  }
  double total = 0;
  for (double s : partial) total += s;
  return std::sqrt(total);
}

double clip_grad_norm(float* grads, size_t n, double max_norm) {
  double norm = grad_norm(grads, n);
  if (!std::isfinite(norm)) return norm;
  double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const float f = static_cast<float>(coef);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < static_cast<long>(n); ++i) grads[i] *= f;
  }
  return norm;
}

}  // namespace scalinglab::train
