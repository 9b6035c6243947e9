#pragma once
// From FLOPs to accelerator time and money: training time = C / (GPUs · peak · MFU) and cost =
// GPU-hours × price. Peaks are dense (no structured sparsity) BF16 tensor-core FLOP/s from the
// vendors' datasheets; docs/PLAN.md lists the datasheets. No prices are built in: they vary by
// provider and contract, so a cost needs the user's own price per GPU-hour.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace scalinglab::plan {

struct GpuPreset {
  std::string name;        // as given to --gpu
  std::string model;       // the exact product the number belongs to
  double peak_flops = 0;   // dense BF16, FLOP/s per GPU
  std::string datasheet;   // where the number comes from
};

const std::vector<GpuPreset>& gpu_presets();
std::optional<GpuPreset> find_gpu(const std::string& name);  // case-insensitive

struct Hardware {
  double peak_flops = 0;            // per GPU, FLOP/s
  double mfu = 0.4;                 // model FLOPs utilisation: achieved / peak
  double gpus = 1;                  // GPUs training in parallel (wall time only)
  double usd_per_gpu_hour = NAN;    // NaN: no cost
  bool has_cost() const { return usd_per_gpu_hour >= 0; }
};

// One-line reason when mfu, gpus, peak or price is out of range; nullopt when fine.
std::optional<std::string> validate(const Hardware& hw);

struct HardwareCost {
  double gpu_hours = NAN, wall_hours = NAN, usd = NAN;
};

HardwareCost hardware_cost(const Hardware& hw, double compute);
// Inverses: the compute that `hours` GPU-hours (or `usd` dollars) buy at this peak and MFU.
double compute_for_gpu_hours(const Hardware& hw, double gpu_hours);
double compute_for_usd(const Hardware& hw, double usd);

}  // namespace scalinglab::plan
