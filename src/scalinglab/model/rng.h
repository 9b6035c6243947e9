#pragma once
// The initialisation RNG, kept tiny so that anyone (a Python reference, a CUDA port) can
// reproduce it bit for bit: SplitMix64 (Steele, Lea & Flood 2014; the seeder of xoshiro) for
// raw 64-bit words, uniforms from the top 53 bits, normals by Box-Muller in double precision.
// Not std::normal_distribution: its algorithm differs between standard libraries.
#include <cmath>
#include <cstdint>

namespace scalinglab::model {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next_u64() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1]: never 0, so log() in Box-Muller is finite.
  double uniform() { return (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53; }
  // Standard normal; each call consumes two uniforms and returns the cosine branch only, which
  // wastes one draw but keeps the stream stateless apart from state_.
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

}  // namespace scalinglab::model
