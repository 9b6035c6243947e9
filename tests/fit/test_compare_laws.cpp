// fit::compare_laws: the generating law ranks first on its own data, every law's AIC is that of
// fitting it alone, and laws the runs cannot serve are skipped with their reason.
#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/fit/compare_laws.h"
#include "scalinglab/fit/synthetic.h"

using namespace scalinglab::fit;

TEST(CompareLaws, TheGeneratingLawRanksFirstAndEachAicIsItsOwnFit) {
  SyntheticDesign d;  // IsoFLOP budgets 1e17..1e20, 1.5% noise
  d.seed = 3;
  const Dataset data = make_synthetic(ChinchillaParams{1.8172, 482.01, 2085.43, 0.3478, 0.3658}, d);
  CompareOptions o;
  o.laws = {"kaplan-nd", "broken", "chinchilla", "kaplan-n"};
  o.irreducible = true;
  o.fit.bootstrap = 0;
  o.fit.threads = 2;
  const LawComparison cmp = compare_laws(data, o);
  ASSERT_EQ(cmp.laws.size(), 3u);  // broken needs x, which these runs lack
  ASSERT_EQ(cmp.skipped.size(), 1u);
  EXPECT_EQ(cmp.skipped[0].first, "broken");
  EXPECT_EQ(cmp.laws[0].name, "kaplan-nd");  // the order asked is kept
  EXPECT_EQ(cmp.laws[1].name, "chinchilla");
  EXPECT_EQ(cmp.laws[1].rank, 1);
  EXPECT_EQ(cmp.laws[1].delta_aic, 0);
  for (const auto& l : cmp.laws) {
    EXPECT_GT(l.rank, 0);
    const FittedLaw alone = fit(*make_law(l.name, {true, {}}), data, o.fit);
    EXPECT_NEAR(l.fit.quality.aic, alone.quality.aic, 1e-9 * std::fabs(alone.quality.aic)) << l.name;
    EXPECT_NEAR(l.delta_aic, alone.quality.aic - cmp.best_aic, 1e-6) << l.name;
    if (l.name != "chinchilla") EXPECT_GT(l.delta_aic, 10) << l.name;
  }
  // No law that fits: one error naming the field.
  o.laws = {"broken"};
  try {
    compare_laws(data, o);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("laws: ", 0), 0u) << e.what();
  }
}
