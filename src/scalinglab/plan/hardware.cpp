#include "scalinglab/plan/hardware.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace scalinglab::plan {

const std::vector<GpuPreset>& gpu_presets() {
  // Datasheets quote BF16 "with sparsity" (2:4 structured) for NVIDIA Hopper/Blackwell; dense is
  // half of it. AMD quotes dense and sparse separately.
  static const std::vector<GpuPreset> presets = {
      {"a100", "NVIDIA A100 SXM 80GB", 312e12, "NVIDIA A100 Tensor Core GPU datasheet: BF16 Tensor Core 312 TFLOPS (624 with sparsity)"},
      {"h100", "NVIDIA H100 SXM5", 989.5e12, "NVIDIA H100 Tensor Core GPU datasheet: BF16 Tensor Core 1,979 TFLOPS with sparsity"},
      {"h200", "NVIDIA H200 SXM", 989.5e12, "NVIDIA H200 Tensor Core GPU datasheet: BF16 Tensor Core 1,979 TFLOPS with sparsity"},
      {"b200", "NVIDIA B200 (HGX B200)", 2.25e15, "NVIDIA HGX B200 / DGX B200 datasheet: FP16/BF16 Tensor Core 4.5 PFLOPS per GPU with sparsity"},
      {"mi300x", "AMD Instinct MI300X", 1307.4e12, "AMD Instinct MI300X datasheet: peak BF16 1,307.4 TFLOPS dense (2,614.9 with sparsity)"},
  };
  return presets;
}

std::optional<GpuPreset> find_gpu(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& g : gpu_presets())
    if (g.name == lower) return g;
  return std::nullopt;
}

std::optional<std::string> validate(const Hardware& hw) {
  if (!(hw.mfu > 0 && hw.mfu <= 1)) return "mfu: must be in (0, 1] (a fraction of the peak, e.g. 0.4)";
  if (!(hw.gpus >= 1) || !std::isfinite(hw.gpus) || std::floor(hw.gpus) != hw.gpus)
    return "gpus: must be a whole number, at least 1";
  if (!(hw.peak_flops > 0) || !std::isfinite(hw.peak_flops)) return "peak_flops: the peak FLOP/s per GPU must be positive";
  if (!std::isnan(hw.usd_per_gpu_hour) && !(hw.usd_per_gpu_hour > 0 && std::isfinite(hw.usd_per_gpu_hour)))
    return "usd_per_gpu_hour: must be positive";
  return std::nullopt;
}

HardwareCost hardware_cost(const Hardware& hw, double c) {
  HardwareCost r;
  r.gpu_hours = c / (hw.peak_flops * hw.mfu) / 3600.0;
  r.wall_hours = r.gpu_hours / hw.gpus;
  if (hw.has_cost()) r.usd = r.gpu_hours * hw.usd_per_gpu_hour;
  return r;
}

double compute_for_gpu_hours(const Hardware& hw, double gpu_hours) { return gpu_hours * 3600.0 * hw.peak_flops * hw.mfu; }

double compute_for_usd(const Hardware& hw, double usd) { return compute_for_gpu_hours(hw, usd / hw.usd_per_gpu_hour); }

}  // namespace scalinglab::plan
