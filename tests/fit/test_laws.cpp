// Each law's analytic gradient against central finite differences, and the public/internal maps.
#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/fit/law.h"
#include "scalinglab/fit/problem.h"

using namespace scalinglab::fit;

namespace {

std::vector<double> sample_theta(const Law& law) {
  std::vector<double> t;
  for (size_t i = 0; i < law.dim(); ++i) t.push_back(0.3 + 0.37 * static_cast<double>(i));
  if (law.name() == "kaplan-nd") t = {30.0, 28.0, 0.076, 0.095};
  if (law.name() == "chinchilla") t = {6.0, 6.0, 0.5, 0.34, 0.28};
  return t;
}

}  // namespace

TEST(Laws, AnalyticGradientMatchesFiniteDifferences) {
  LogPoint p{std::log(3e8), std::log(6e9), std::log(6 * 3e8 * 6e9), std::log(123.0)};
  for (const auto& name : law_names()) {
    for (bool irreducible : {false, true}) {
      auto law = make_law(name, {irreducible});
      auto t = sample_theta(*law);
      std::vector<double> g(law->dim());
      law->log_predict(t.data(), p, g.data());
      for (size_t j = 0; j < law->dim(); ++j) {
        const double h = 1e-6;
        auto tp = t, tm = t;
        tp[j] += h;
        tm[j] -= h;
        double fd = (law->log_predict(tp.data(), p, nullptr) - law->log_predict(tm.data(), p, nullptr)) / (2 * h);
        EXPECT_NEAR(g[j], fd, 1e-6 * std::max(1.0, std::fabs(fd))) << name << " param " << law->internal_names()[j];
      }
    }
  }
}

TEST(Laws, PublicParametersRoundTripAndMatchTheFormula) {
  auto law = make_law("chinchilla");
  std::vector<double> pub{1.69, 406.4, 410.7, 0.34, 0.28};
  auto theta = law->to_internal(pub);
  auto back = law->to_public(theta.data());
  for (size_t i = 0; i < pub.size(); ++i) EXPECT_NEAR(back[i], pub[i], 1e-12 * pub[i]);
  const double n = 7e10, d = 1.4e12;
  double expect = 1.69 + 406.4 / std::pow(n, 0.34) + 410.7 / std::pow(d, 0.28);
  EXPECT_NEAR(std::exp(law->log_predict(theta.data(), log_point({n, d, 6 * n * d, 0, 1, 0}), nullptr)), expect, 1e-12);

  // Kaplan et al. 2020 eq. 1.1: L(N) = (N_c/N)^α_N with N_c = 8.8e13, α_N = 0.076.
  auto kn = make_law("kaplan-n");
  auto tk = kn->to_internal({8.8e13, 0.076});
  EXPECT_NEAR(std::exp(kn->log_predict(tk.data(), log_point({1e9, 0, 0, 0, 1, 0}), nullptr)),
              std::pow(8.8e13 / 1e9, 0.076), 1e-12);
  // Kaplan eq. 1.5 with the Table 2 constants.
  auto knd = make_law("kaplan-nd");
  auto td = knd->to_internal({6.4e13, 1.8e13, 0.076, 0.103});
  double l = std::pow(std::pow(6.4e13 / 1e9, 0.076 / 0.103) + 1.8e13 / 2e10, 0.103);
  EXPECT_NEAR(std::exp(knd->log_predict(td.data(), log_point({1e9, 2e10, 0, 0, 1, 0}), nullptr)), l, 1e-12);
}

TEST(Laws, ChinchillaGridIsThePublishedOne) {
  auto law = make_law("chinchilla");
  auto starts = law->default_starts();
  ASSERT_EQ(starts.size(), 4500u);  // α, β ∈ {0..2 by .5}, e ∈ {-1..1 by .5}, a, b ∈ {0..25 by 5}
  EXPECT_EQ(law->internal_names(), (std::vector<std::string>{"a", "b", "e", "alpha", "beta"}));
  double max_a = 0, max_alpha = 0, min_e = 0;
  for (const auto& s : starts) {
    max_a = std::max(max_a, s[0]);
    min_e = std::min(min_e, s[2]);
    max_alpha = std::max(max_alpha, s[3]);
  }
  EXPECT_EQ(max_a, 25);
  EXPECT_EQ(min_e, -1);
  EXPECT_EQ(max_alpha, 2);
}

TEST(Laws, UnknownLawNamesTheKnownOnes) {
  try {
    make_law("chinchila");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("chinchilla"), std::string::npos);
  }
}
