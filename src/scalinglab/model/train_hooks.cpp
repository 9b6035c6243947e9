#include "scalinglab/model/train_hooks.h"

#include <algorithm>
#include <cstdint>

namespace scalinglab::model {

std::vector<train::ParamTensor> param_table(const Gpt& model) {
  std::vector<train::ParamTensor> table;
  for (const auto& t : model.tensors()) table.push_back({t.name, t.offset, t.numel, t.is_matrix});
  return table;
}

namespace {

// Splits rows of ctx + 1 tokens into the [rows, ctx] input and target arrays the model takes.
void split_batch(const std::int32_t* batch, std::uint32_t rows, std::uint32_t ctx, std::vector<std::int32_t>& in,
                 std::vector<std::int32_t>& target) {
  in.resize(static_cast<std::size_t>(rows) * ctx);
  target.resize(in.size());
  for (std::uint32_t r = 0; r < rows; ++r) {
    const std::int32_t* row = batch + static_cast<std::size_t>(r) * (ctx + 1);
    std::copy(row, row + ctx, in.begin() + static_cast<std::ptrdiff_t>(r) * ctx);
    std::copy(row + 1, row + ctx + 1, target.begin() + static_cast<std::ptrdiff_t>(r) * ctx);
  }
}

}  // namespace

train::ModelHooks make_train_hooks(Gpt& model) {
  auto run = [&model](const float* params, const std::int32_t* batch, std::uint32_t rows, std::uint32_t ctx,
                      float* grads) {
    std::copy(params, params + model.params().size(), model.params().begin());
    std::vector<std::int32_t> in, target;
    split_batch(batch, rows, ctx, in, target);
    const float loss = model.forward(in.data(), target.data(), static_cast<int>(rows), static_cast<int>(ctx));
    if (grads) {
      model.zero_grad();
      model.backward();
      std::copy(model.grads().begin(), model.grads().end(), grads);
    }
    return static_cast<double>(loss);
  };
  train::ModelHooks hooks;
  hooks.loss_and_grad = run;
  hooks.loss = [run](const float* params, const std::int32_t* batch, std::uint32_t rows, std::uint32_t ctx) {
    return run(params, batch, rows, ctx, nullptr);
  };
  return hooks;
}

}  // namespace scalinglab::model
