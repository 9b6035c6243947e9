// The monitor's building blocks against independent references: CRC32C check value, protobuf
// wire decoding of hand-encoded messages, Student-t quantiles against published table values,
// and the law band against fit::prediction_interval.
#include <gtest/gtest.h>

#include <random>

#include "monitor/tfevents_writer.h"
#include "scalinglab/fit/estimate.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/monitor/crc32c.h"
#include "scalinglab/monitor/law_band.h"
#include "scalinglab/monitor/protobuf_wire.h"
#include "scalinglab/monitor/student_t.h"
#include "scalinglab/monitor/tfevents.h"

namespace sm = scalinglab::monitor;
namespace st = scalinglab::testing;

TEST(Crc32c, KnownCheckValueAndMask) {
  // CRC-32C check value (RFC 3720 App. B.4; the "check" of the CRC catalogue).
  EXPECT_EQ(sm::crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(st::bitwise_crc32c("123456789"), 0xE3069283u);
  // RFC 3720 B.4: 32 bytes of zeros → 0x8A9136AA, 32 bytes of 0xFF → 0x62A8AB43.
  std::string zeros(32, '\0'), ones(32, '\xff');
  EXPECT_EQ(sm::crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(sm::crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  // Table-driven vs bitwise on random data, and incremental extension.
  std::mt19937 rng(7);
  std::string data(1000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  EXPECT_EQ(sm::crc32c(data.data(), data.size()), st::bitwise_crc32c(data));
  EXPECT_EQ(sm::crc32c(data.data() + 400, 600, sm::crc32c(data.data(), 400)), st::bitwise_crc32c(data));
  // Masking: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
  EXPECT_EQ(sm::mask_crc32c(0), 0xa282ead8u);
  EXPECT_EQ(sm::mask_crc32c(0xE3069283u), ((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u);
}

TEST(ProtobufWire, DecodesEveryWireType) {
  std::string m;
  st::put_key(m, 1, 0);
  st::put_varint(m, 300);  // two-byte varint: 0xAC 0x02
  st::put_double(m, 2, 2.5);
  st::put_bytes(m, 3, "hello");
  st::put_float(m, 4, -1.25f);
  st::put_key(m, 5, 0);
  st::put_varint(m, 1ull << 40);
  EXPECT_EQ(static_cast<unsigned char>(m[1]), 0xAC);
  sm::WireReader r(m);
  auto f = r.next();
  EXPECT_EQ(f.number, 1u);
  EXPECT_EQ(f.varint, 300u);
  f = r.next();
  EXPECT_EQ(f.number, 2u);
  EXPECT_DOUBLE_EQ(f.as_double(), 2.5);
  f = r.next();
  EXPECT_EQ(f.bytes, "hello");
  f = r.next();
  EXPECT_FLOAT_EQ(f.as_float(), -1.25f);
  f = r.next();
  EXPECT_EQ(f.varint, 1ull << 40);
  EXPECT_TRUE(r.done());
}

TEST(ProtobufWire, MalformedInputThrows) {
  std::string m;
  st::put_bytes(m, 1, "hello");
  std::string cut = m.substr(0, m.size() - 2);  // length says 5, 3 remain
  sm::WireReader r(cut);
  EXPECT_THROW(r.next(), sm::WireError);
  std::string varint_cut = "\x08\xff";  // field 1 varint, continuation bit with nothing after
  sm::WireReader r2(varint_cut);
  EXPECT_THROW(r2.next(), sm::WireError);
  std::string group = "\x0b";  // wire type 3 (start group): unsupported
  sm::WireReader r3(group);
  EXPECT_THROW(r3.next(), sm::WireError);
}

TEST(Tfevents, DecodesSimpleAndTensorScalars) {
  std::vector<sm::ScalarEvent> out;
  sm::decode_event(st::event(1.7e9, 42, {st::simple_value("train/loss", 3.25f), st::tensor_value("val/loss", 3.5f, false),
                                         st::tensor_value("eval/acc", 0.75f, true)}),
                   out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].tag, "train/loss");
  EXPECT_EQ(out[0].step, 42);
  EXPECT_DOUBLE_EQ(out[0].wall_time, 1.7e9);
  EXPECT_FLOAT_EQ(static_cast<float>(out[0].value), 3.25f);
  EXPECT_FALSE(out[0].tensor);
  EXPECT_EQ(out[1].tag, "val/loss");
  EXPECT_FLOAT_EQ(static_cast<float>(out[1].value), 3.5f);
  EXPECT_TRUE(out[1].tensor);
  EXPECT_FLOAT_EQ(static_cast<float>(out[2].value), 0.75f);
  out.clear();
  sm::decode_event(st::file_version_event(1.7e9), out);
  EXPECT_TRUE(out.empty());
}

TEST(StudentT, MatchesPublishedTableValues) {
  // Two-sided 95% and 99% critical values (any statistics table; e.g. Abramowitz & Stegun 26.10).
  EXPECT_NEAR(sm::student_t_quantile(0.975, 1), 12.706204736, 1e-6);
  EXPECT_NEAR(sm::student_t_quantile(0.975, 3), 3.182446305, 1e-8);
  EXPECT_NEAR(sm::student_t_quantile(0.975, 10), 2.228138852, 1e-8);
  EXPECT_NEAR(sm::student_t_quantile(0.975, 30), 2.042272456, 1e-8);
  EXPECT_NEAR(sm::student_t_quantile(0.995, 5), 4.032142984, 1e-8);
  EXPECT_NEAR(sm::student_t_quantile(0.975, INFINITY), 1.959963985, 1e-8);
  EXPECT_NEAR(sm::student_t_quantile(0.025, 10), -2.228138852, 1e-8);
  EXPECT_NEAR(sm::student_t_cdf(0, 7), 0.5, 1e-15);
  // F: F(1, d) = t(d)², and the 5% point of F(3, 12) from the F table.
  EXPECT_NEAR(sm::fisher_f_quantile(0.95, 1, 10), 2.228138852 * 2.228138852, 1e-7);
  EXPECT_NEAR(sm::fisher_f_quantile(0.95, 3, 12), 3.490294819, 1e-7);
  EXPECT_NEAR(sm::fisher_f_quantile(0.99, 3, 17), 5.184999917, 1e-7);  // scipy.stats.f.ppf(0.99, 3, 17)
}

TEST(LawBand, SelectQuantileMatchesSortingQuantile) {
  std::mt19937 rng(3);
  std::normal_distribution<double> z;
  for (size_t n : {2u, 3u, 10u, 2000u}) {
    std::vector<double> v(n);
    for (auto& x : v) x = z(rng);
    for (double q : {0.0, 0.025, 0.5, 0.975, 1.0}) {
      auto copy = v;
      EXPECT_DOUBLE_EQ(sm::select_quantile(copy, q), scalinglab::fit::quantile(v, q)) << n << " " << q;
    }
  }
}

TEST(LawBand, AtNinetyFivePercentEqualsThePredictionInterval) {
  // A hand-made fit: the Chinchilla law with jittered bootstrap replicates and residuals.
  auto f = std::make_shared<scalinglab::fit::FittedLaw>();
  f->model = scalinglab::fit::make_law("chinchilla");
  f->theta = f->model->to_internal({1.69, 406.4, 410.7, 0.34, 0.28});
  std::mt19937 rng(5);
  std::normal_distribution<double> z;
  for (int b = 0; b < 300; ++b) {
    auto t = f->theta;
    for (auto& x : t) x += 0.01 * z(rng);
    f->bootstrap_theta.push_back(t);
  }
  for (int i = 0; i < 60; ++i) {
    scalinglab::fit::Residual r;
    r.log_residual = 0.01 * z(rng);
    f->residuals.push_back(r);
  }
  sm::LawBand band(f, 4e8, 0.95);
  for (double d : {1e8, 1e9, 8e9}) {
    scalinglab::fit::Run at{4e8, d, 6 * 4e8 * d, d, 1, 0};
    auto pi = scalinglab::fit::prediction_interval(*f->model, f->bootstrap_theta, f->log_residuals(), at);
    sm::Band b = band.at(d);
    EXPECT_DOUBLE_EQ(b.lo, pi.lo);
    EXPECT_DOUBLE_EQ(b.hi, pi.hi);
    scalinglab::fit::ChinchillaParams p{1.69, 406.4, 410.7, 0.34, 0.28};
    EXPECT_NEAR(b.predicted, p.loss(4e8, d), 1e-12);
  }
  // A wider level gives a wider band; a law needing N refuses to run without it.
  sm::LawBand wide(f, 4e8, 0.99);
  EXPECT_LT(wide.at(1e9).lo, band.at(1e9).lo);
  EXPECT_GT(wide.at(1e9).hi, band.at(1e9).hi);
  EXPECT_THROW(sm::LawBand(f, 0, 0.95), std::invalid_argument);
  auto bare = std::make_shared<scalinglab::fit::FittedLaw>();
  bare->model = scalinglab::fit::make_law("chinchilla");
  bare->theta = f->theta;
  EXPECT_THROW(sm::LawBand(bare, 4e8, 0.95), std::invalid_argument);
}
