// The schedule-aware prediction: the areas of the LR-annealing law against closed forms and brute
// force, the fit recovering known parameters under its constraints, and the monitor on runs that
// follow the law through a WSD cooldown and a cosine decay, restarted runs and rising losses.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "scalinglab/monitor/lr_history.h"
#include "scalinglab/monitor/monitor.h"
#include "scalinglab/monitor/schedule_curve.h"

namespace sm = scalinglab::monitor;
namespace tr = scalinglab::train;

namespace {

tr::ScheduleConfig schedule(tr::ScheduleKind kind, uint64_t steps, uint64_t warmup = 0) {
  tr::ScheduleConfig c;
  c.kind = kind;
  c.peak_lr = 3e-3;
  c.total_steps = steps;
  c.warmup_steps = warmup;
  if (kind == tr::ScheduleKind::kWsd) c.cooldown_shape = tr::CooldownShape::kLinear;
  return c;
}

// Brute force of Tissue et al.'s definitions, straight from the sums.
double s2_brute(const std::vector<double>& lr, double lambda, size_t s) {
  double peak = *std::max_element(lr.begin(), lr.end());
  double total = 0;
  for (size_t i = 1; i < s; ++i)  // S2(s) = Σ_{i<s} Σ_{k≤i} (η_{k−1} − η_k)·λ^(i−k)
    for (size_t k = 1; k <= i; ++k) total += (lr[k - 1] - lr[k]) / peak * std::pow(lambda, static_cast<double>(i - k));
  return total;
}

struct Truth {
  double L0 = 1.5, A = 2.0, alpha = 0.5, C = 1.6e-3;  // a 20% linear cooldown then removes ~5% of the loss
  double at(const sm::LrHistory& h, double s) const { return L0 + A * std::pow(h.s1(s), -alpha) - C * h.s2(s); }
};

}  // namespace

TEST(LrHistory, AreasMatchClosedFormsAndBruteForce) {
  // Constant lr: S1 counts steps, S2 is zero.
  auto c = sm::LrHistory::from_schedule(schedule(tr::ScheduleKind::kConstant, 100), 0.99);
  EXPECT_DOUBLE_EQ(c.s1(40), 40);
  EXPECT_DOUBLE_EQ(c.s2(40), 0);
  EXPECT_DOUBLE_EQ(c.s1(150), 150);  // held past the end
  // With λ = 0 the momentum is the last drop only: S2(s) = Σ_{i<s} (η_{i−1} − η_i)/η_max summed,
  // i.e. Σ_{i<s} of the drops — for a monotone decay from the peak, 1 − η_{s−1}/η_max summed…
  auto w = sm::LrHistory::from_schedule(schedule(tr::ScheduleKind::kWsd, 200), 0.0);
  double expect = 0;
  for (uint64_t i = 1; i < 200; ++i) expect += (w.lr(i - 1) - w.lr(i)) / w.peak();
  EXPECT_NEAR(w.s2(200), expect, 1e-12);
  // … and for any λ, the recursive areas equal the double sum.
  auto cos = sm::LrHistory::from_schedule(schedule(tr::ScheduleKind::kCosine, 300, 20), 0.97);
  std::vector<double> lr;
  for (uint64_t i = 0; i < 300; ++i) lr.push_back(cos.lr(i));
  // The warmup's increases add nothing (they set new maxima): compare from the peak on.
  std::vector<double> after(lr.begin() + 19, lr.end());
  for (size_t s : {30, 120, 281})
    EXPECT_NEAR(cos.s2(static_cast<double>(s + 19)), s2_brute(after, 0.97, s), 1e-9) << s;
  double s1 = 0;
  for (size_t i = 0; i < 150; ++i) s1 += lr[i] / 3e-3;
  EXPECT_NEAR(cos.s1(150), s1, 1e-9);
  // Past the end no new drop: the momentum decays geometrically (brute force with a held lr).
  std::vector<double> held = after;
  held.resize(after.size() + 50, after.back());
  EXPECT_NEAR(cos.s2(300 + 50), s2_brute(held, 0.97, held.size()), 1e-9);
}

TEST(LrHistory, SamplesFromALogAreInterpolated) {
  sm::LrHistory h(0.9);
  EXPECT_TRUE(h.add(10, 1e-3));  // the first sample also covers steps 0…9
  EXPECT_TRUE(h.add(20, 2e-3));
  EXPECT_FALSE(h.add(15, 1e-3));  // before the last known step
  EXPECT_FALSE(h.add(30, -1));
  EXPECT_DOUBLE_EQ(h.lr(5), 1e-3);
  EXPECT_DOUBLE_EQ(h.lr(15), 1.5e-3);
  EXPECT_EQ(h.peak_step(), 20u);  // the first step at the peak
  EXPECT_EQ(h.steps(), 21u);
}

TEST(ScheduleCurve, RecoversKnownParametersFromACosineRun) {
  auto h = sm::LrHistory::from_schedule(schedule(tr::ScheduleKind::kCosine, 2000), 0.99);
  Truth t;
  std::vector<double> s1, s2, loss;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 0.001);
  for (int s = 40; s <= 2000; s += 40) {
    s1.push_back(h.s1(s));
    s2.push_back(h.s2(s));
    loss.push_back(t.at(h, s) * (1 + noise(rng)));
  }
  sm::ScheduleFitOptions o;
  o.lambda = 0.99;
  auto f = sm::fit_schedule_curve(s1, s2, loss, o);
  ASSERT_TRUE(f.ok) << f.message;
  EXPECT_TRUE(f.anneal_identified);
  EXPECT_NEAR(f.L0, t.L0, 0.05);
  EXPECT_NEAR(f.alpha, t.alpha, 0.05);
  EXPECT_NEAR(f.C / t.C, 1, 0.1);
  EXPECT_NEAR(f.sigma, 0.001, 0.0007);
  auto p = f.at(h.s1(2000), h.s2(2000), 0.95, false);
  EXPECT_NEAR(p.value / t.at(h, 2000), 1, 0.002);
  EXPECT_LT(p.pi_lo, p.value);
  EXPECT_GT(p.pi_hi, p.value);
}

// A validation loss that rises (an overfitting nanoGPT run: 1.61 → 4.27) has no decreasing power
// law: the fit keeps its exponent positive and its floor non-negative instead of a D^(−(−8.6)).
TEST(ScheduleCurve, ConstraintsHoldOnARisingLoss) {
  std::vector<double> s1, s2, loss;
  for (int i = 1; i <= 20; ++i) {
    s1.push_back(100.0 * i);
    s2.push_back(0);
    loss.push_back(1.61 + (4.27 - 1.61) * std::pow(i / 20.0, 2));
  }
  auto f = sm::fit_schedule_curve(s1, s2, loss, {});
  ASSERT_TRUE(f.ok);
  EXPECT_GE(f.alpha, 0.02);
  EXPECT_GE(f.L0, 0);
  EXPECT_GE(f.A, 0);
  EXPECT_GE(f.C, 0);
}

namespace {

// A run following the law on `sched`, with relative noise, evaluated every `every` steps.
std::vector<sm::LogRecord> law_run(const tr::ScheduleConfig& sched, double lambda, int every, double noise, uint64_t seed,
                                   double shift_from = -1, double shift = 0) {
  auto h = sm::LrHistory::from_schedule(sched, lambda);
  Truth t;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, noise);
  std::vector<sm::LogRecord> out;
  long line = 0;
  for (uint64_t s = every; s <= sched.total_steps; s += every) {
    sm::LogRecord r;
    r.line = ++line;
    r.step = static_cast<double>(s);
    r.lr = tr::learning_rate(sched, s - 1);
    double l = t.at(h, static_cast<double>(s)) * (1 + n(rng));
    if (shift_from >= 0 && s >= shift_from) l *= 1 + shift;
    r.eval_loss = l;
    out.push_back(r);
  }
  return out;
}

sm::MonitorOptions options(const tr::ScheduleConfig& sched) {
  sm::MonitorOptions o;
  o.source = "law";
  o.schedule = sched;
  o.calibrate_fraction = 0.3;
  o.anneal_memory = 100;  // the λ = 0.99 the runs were made with
  return o;
}

}  // namespace

// Monitored from 30% of the run, the law's WSD and cosine runs are not flagged during their
// decays (the prior covers the WSD cooldown the window cannot see), and the final loss is
// predicted from 50% of the run within 1.5% (cosine) or 2% (WSD, the prior's drop); a 5% step at 60% is flagged within 3 evaluations.
TEST(ScheduleCurve, CooldownsArePredictedNotFlagged) {
  for (auto kind : {tr::ScheduleKind::kWsd, tr::ScheduleKind::kCosine}) {
    auto sched = schedule(kind, 1000);
    Truth t;
    int flagged = 0;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      sm::Monitor m(options(sched));
      m.add_all(law_run(sched, 0.99, 20, 0.002, seed));
      m.finish();
      flagged += m.flagged();
      const auto& pts = m.points();
      const auto& mid = pts[24];  // step 500
      ASSERT_TRUE(mid.final.ok);
      auto h = sm::LrHistory::from_schedule(sched, 0.99);
      // WSD: the cooldown is not in the data yet, so its drop is the prior's (sd 1.5% of the loss).
      const double tol = kind == tr::ScheduleKind::kWsd ? 0.02 : 0.015;
      EXPECT_NEAR(mid.final.loss.value / t.at(h, 1000), 1, tol) << tr::to_string(kind) << " seed " << seed;
      EXPECT_LE(mid.final.loss.pi_lo, t.at(h, 1000));
      EXPECT_GE(mid.final.loss.pi_hi, t.at(h, 1000));
    }
    EXPECT_LE(flagged, 1) << tr::to_string(kind) << ": healthy runs flagged in 20";
    int caught = 0;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      sm::Monitor m(options(sched));
      m.add_all(law_run(sched, 0.99, 20, 0.002, 100 + seed, 600, 0.05));
      for (const auto& w : m.warnings())
        if (w.flags) {
          caught += w.step >= 600 && w.step <= 640;
          break;
        }
    }
    EXPECT_GE(caught, 19) << tr::to_string(kind) << ": 5% steps caught within 3 evaluations, of 20";
  }
}

// A resumed run: steps 20…600, then the job restarts from its step-400 checkpoint and logs
// 420…1000. The later segment replaces the overlapped one, as the trainers mean it.
TEST(ScheduleCurve, ARestartReplacesTheOverlappedSegment) {
  auto sched = schedule(tr::ScheduleKind::kCosine, 1000);
  auto first = law_run(sched, 0.99, 20, 0.002, 1);
  auto second = law_run(sched, 0.99, 20, 0.002, 2);
  std::vector<sm::LogRecord> log;
  for (const auto& r : first)
    if (*r.step <= 600) log.push_back(r);
  for (const auto& r : second)
    if (*r.step > 400) {
      log.push_back(r);
      log.back().line = static_cast<long>(log.size());
    }
  sm::Monitor m(options(sched));
  m.add_all(log);
  m.finish();
  ASSERT_EQ(m.restarts().size(), 1u);
  EXPECT_EQ(m.restarts()[0].from, 600);
  EXPECT_EQ(m.restarts()[0].to, 420);
  EXPECT_EQ(m.restarts()[0].points_replaced, 10);  // 420, 440, …, 600
  ASSERT_EQ(m.points().size(), 50u);
  for (const auto& p : m.points()) {
    const auto& src = p.step <= 400 ? first : second;
    EXPECT_DOUBLE_EQ(p.loss, *src[static_cast<size_t>(p.step / 20 - 1)].eval_loss) << p.step;
  }
  bool warned = false;
  for (const auto& w : m.warnings()) warned = warned || (w.kind == "restart" && w.message.find("replaces 10 evaluations") != std::string::npos);
  EXPECT_TRUE(warned);
  EXPECT_FALSE(m.flagged());
}
