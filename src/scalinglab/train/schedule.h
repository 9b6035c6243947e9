#pragma once
// Learning-rate schedules as pure functions of the step, so a resumed run needs no schedule state.
//
// Conventions shared by all kinds: `step` is the 0-based index of the optimizer update about to
// be taken, total_steps is the run length. Warmup is linear, lr = peak * (step + 1) / warmup for
// step < warmup, so the first update is not wasted at lr = 0 and step warmup - 1 is at peak.
// Decays are written in terms of progress through the decay phase, which reaches 1 exactly at
// step == total_steps (the end of the run), as when the cosine cycle length equals the number of
// training steps in Hoffmann et al. 2022, and as in the WSD reference code of Hägele et al. 2024.
#include <cstdint>
#include <optional>
#include <string>

namespace scalinglab::train {

enum class ScheduleKind {
  kCosine,    // warmup, then cosine from peak to final_frac * peak (default 10%; Hoffmann et al. 2022)
  kConstant,  // warmup, then peak
  kWsd,       // warmup, stable at peak, then a cooldown over the last cooldown_frac of the run
              // (Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed
              // Training Durations")
};

enum class CooldownShape {
  kLinear,       // peak -> final linearly
  kOneMinusSqrt  // lr = final + (peak - final) * (1 - sqrt(progress)): Hägele et al.'s best shape
};

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::kCosine;
  double peak_lr = 1e-3;
  uint64_t warmup_steps = 0;
  uint64_t total_steps = 1;
  // Final lr as a fraction of peak; unset means the papers' choices: 0.1 for cosine (Hoffmann
  // et al.), 0 for the WSD cooldown (Hägele et al.).
  std::optional<double> final_frac;
  double cooldown_frac = 0.2;  // WSD only: fraction of total_steps spent in the cooldown
  CooldownShape cooldown_shape = CooldownShape::kOneMinusSqrt;
};

// Throws std::invalid_argument with one line for an inconsistent config (warmup longer than the
// run, cooldown fraction outside (0, 1], warmup overlapping the cooldown, ...).
void validate(const ScheduleConfig& c);

double final_fraction(const ScheduleConfig& c);

// Learning rate at `step` in [0, total_steps]; steps past the end return the final value.
double learning_rate(const ScheduleConfig& c, uint64_t step);

// Parsing for configs and the CLI: "cosine" | "constant" | "wsd"; "linear" | "1-sqrt".
ScheduleKind parse_schedule_kind(const std::string& s);
CooldownShape parse_cooldown_shape(const std::string& s);
std::string to_string(ScheduleKind k);
std::string to_string(CooldownShape s);

}  // namespace scalinglab::train
