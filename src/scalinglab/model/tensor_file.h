#pragma once
// A minimal named-tensor container, readable from Python with nothing but json + numpy (see
// tests/model/torch_reference.py), used to hand exact weights, batches and gradients between
// the C++ model and the PyTorch reference.
//
// Layout (all integers little-endian):
//   8 bytes   magic "SLTENS01"
//   8 bytes   uint64 length H of the JSON header
//   H bytes   UTF-8 JSON: {"meta": {...}, "tensors": [{"name", "dtype": "f32"|"i32",
//             "shape": [...], "offset": bytes from the start of the data section}]}
//   data      raw little-endian tensors, each 8-byte aligned relative to the data start
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scalinglab::model {

struct NamedTensor {
  std::string name;
  std::string dtype;           // "f32" or "i32"
  std::vector<std::int64_t> shape;
  std::vector<unsigned char> bytes;

  static NamedTensor f32(std::string name, std::vector<std::int64_t> shape, const float* data);
  static NamedTensor i32(std::string name, std::vector<std::int64_t> shape, const std::int32_t* data);
  std::int64_t numel() const;
  std::vector<float> as_f32() const;        // throws if dtype != "f32"
  std::vector<std::int32_t> as_i32() const;  // throws if dtype != "i32"
};

struct TensorFile {
  nlohmann::json meta = nlohmann::json::object();
  std::vector<NamedTensor> tensors;

  const NamedTensor* find(const std::string& name) const;
  const NamedTensor& at(const std::string& name) const;  // throws std::runtime_error naming the file's tensors
};

void write_tensor_file(const std::string& path, const TensorFile& file);  // atomic
TensorFile read_tensor_file(const std::string& path);  // throws std::runtime_error on a malformed file

}  // namespace scalinglab::model
