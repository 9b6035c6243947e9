#include "scalinglab/train/schedule.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace scalinglab::train {
namespace {

uint64_t cooldown_steps(const ScheduleConfig& c) {
  return static_cast<uint64_t>(std::llround(c.cooldown_frac * static_cast<double>(c.total_steps)));
}

}  // namespace

double final_fraction(const ScheduleConfig& c) {
  if (c.final_frac) return *c.final_frac;
  return c.kind == ScheduleKind::kWsd ? 0.0 : 0.1;
}

void validate(const ScheduleConfig& c) {
  auto fail = [](const std::string& m) { throw std::invalid_argument("lr schedule: " + m); };
  if (!(c.peak_lr > 0) || !std::isfinite(c.peak_lr)) fail("peak lr must be positive and finite");
  if (c.total_steps == 0) fail("total steps must be > 0");
  if (c.warmup_steps > c.total_steps)
    fail("warmup of " + std::to_string(c.warmup_steps) + " steps exceeds the run length of " +
         std::to_string(c.total_steps));
  if (!(final_fraction(c) >= 0 && final_fraction(c) <= 1)) fail("final lr fraction must be in [0, 1]");
  if (c.kind == ScheduleKind::kWsd) {
    if (!(c.cooldown_frac > 0 && c.cooldown_frac <= 1)) fail("cooldown fraction must be in (0, 1]");
    uint64_t cd = cooldown_steps(c);
    if (cd == 0) fail("cooldown fraction rounds to 0 steps");
    if (c.warmup_steps + cd > c.total_steps)
      fail("warmup (" + std::to_string(c.warmup_steps) + ") and cooldown (" + std::to_string(cd) +
           ") steps together exceed the run length of " + std::to_string(c.total_steps));
  }
}

double learning_rate(const ScheduleConfig& c, uint64_t step) {
  const double peak = c.peak_lr, final_lr = final_fraction(c) * c.peak_lr;
  if (step < c.warmup_steps) return peak * static_cast<double>(step + 1) / static_cast<double>(c.warmup_steps);
  switch (c.kind) {
    case ScheduleKind::kConstant:
      return peak;
    case ScheduleKind::kCosine: {
      if (step >= c.total_steps || c.total_steps == c.warmup_steps) return final_lr;
      double p = static_cast<double>(step - c.warmup_steps) / static_cast<double>(c.total_steps - c.warmup_steps);
      return final_lr + (peak - final_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
    }
    case ScheduleKind::kWsd: {
      uint64_t cd = cooldown_steps(c);
      uint64_t hold_end = c.total_steps - cd;
      if (step < hold_end) return peak;
      if (step >= c.total_steps) return final_lr;
      double p = static_cast<double>(step - hold_end) / static_cast<double>(cd);
      double shape = c.cooldown_shape == CooldownShape::kLinear ? 1.0 - p : 1.0 - std::sqrt(p);
      return final_lr + (peak - final_lr) * shape;
    }
  }
  return peak;
}

ScheduleKind parse_schedule_kind(const std::string& s) {
  if (s == "cosine") return ScheduleKind::kCosine;
  if (s == "constant") return ScheduleKind::kConstant;
  if (s == "wsd") return ScheduleKind::kWsd;
  throw std::invalid_argument("unknown lr schedule '" + s + "' (expected cosine, constant or wsd)");
}

CooldownShape parse_cooldown_shape(const std::string& s) {
  if (s == "linear") return CooldownShape::kLinear;
  if (s == "1-sqrt" || s == "one-minus-sqrt") return CooldownShape::kOneMinusSqrt;
  throw std::invalid_argument("unknown cooldown shape '" + s + "' (expected linear or 1-sqrt)");
}

std::string to_string(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::kCosine: return "cosine";
    case ScheduleKind::kConstant: return "constant";
    case ScheduleKind::kWsd: return "wsd";
  }
  return "?";
}

std::string to_string(CooldownShape s) { return s == CooldownShape::kLinear ? "linear" : "1-sqrt"; }

}  // namespace scalinglab::train
