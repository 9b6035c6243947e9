#pragma once
// How trainer-side code sees a model: one contiguous float buffer of parameters (and one of
// gradients, same layout) described by a table of named tensors.
#include <cstddef>
#include <string>

namespace scalinglab::train {

struct ParamTensor {
  std::string name;
  size_t offset = 0;  // in floats, into the flat buffer
  size_t size = 0;    // in floats
  bool is_matrix = false;  // weight matrices (and embeddings) get weight decay; gains/biases do not
  bool operator==(const ParamTensor&) const = default;
};

}  // namespace scalinglab::train
