#pragma once
// The learning rate a run used (and plans to use) at every optimizer step, and the two areas of
// the LR-annealing law of Tissue et al. 2024 ("Scaling Law with Learning Rate Annealing",
// arXiv:2408.11029) computed from it:
//   S1(s) = Σ_{i<s} η_i / η_max                                   the forward area
//   S2(s) = Σ_{i<s} m_i,  m_i = λ·m_{i−1} + (η_{i−1} − η_i)/η_max   the annealing area
// m is the "momentum" of the lr decreases: a drop in lr keeps lowering the loss for about
// 1/(1 − λ) steps. Changes count only once the lr has reached its running maximum (a step that
// sets a new maximum adds nothing), so a warmup adds nothing to S2 (Tissue et al. leave warmup
// out of the annealing term) while a re-warmup after a decay takes annealing back.
//
// Step s means "after s updates": update i (0-based) uses η_i, so S1(s) sums η_0 … η_{s−1}. The
// areas are kept unnormalised and divided by the running η_max when asked for, so the history
// grows one sample at a time (a log being followed) at O(1) per step. η_max normalisation makes
// the areas independent of the lr's units.
#include <cstdint>
#include <vector>

#include "scalinglab/train/schedule.h"

namespace scalinglab::monitor {

class LrHistory {
 public:
  explicit LrHistory(double lambda = 0.999) : lambda_(lambda) {}
  // Every step of a schedule (train::learning_rate, the trainer's own formula). Throws
  // std::invalid_argument for an inconsistent schedule (train::validate).
  static LrHistory from_schedule(const train::ScheduleConfig& schedule, double lambda = 0.999);

  // The lr at `step` from a log: steps between the previous sample and this one are linearly
  // interpolated (the first sample also covers the steps before it). A sample at or before the
  // last known step, or with lr ≤ 0 or non-finite, is ignored and returns false.
  bool add(double step, double lr);
  // A constant lr for `steps` steps (the assumption when nothing states the lr).
  static LrHistory constant(uint64_t steps, double lambda = 0.999);
  // This history, then `plan`'s lr for the steps past the known ones (the rest of the schedule).
  LrHistory continued(const LrHistory& plan) const;

  bool empty() const { return lr_.empty(); }
  uint64_t steps() const { return lr_.size(); }  // steps whose lr is known
  double lambda() const { return lambda_; }
  double peak() const { return peak_; }
  uint64_t peak_step() const { return peak_step_; }  // the first step at the peak lr
  double lr(uint64_t step) const;  // the last known lr past the end
  // The areas after `s` updates (fractional s interpolated; past the end the last lr is held).
  double s1(double s) const;
  double s2(double s) const;

 private:
  void push(double lr);
  double lambda_;
  std::vector<double> lr_;
  std::vector<double> s1_{0}, s2_{0};  // unnormalised, s1_[s] and s2_[s] for s in [0, steps]
  double peak_ = 0, m_ = 0;
  uint64_t peak_step_ = 0;
  bool at_peak_ = false;  // the lr has reached its running maximum at least once
};

}  // namespace scalinglab::monitor
