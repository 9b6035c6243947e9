#pragma once
// Plugs a Gpt into the model-agnostic trainer (train/trainer.h), which owns the parameter
// buffer and sees a model only through a tensor table and two loss callbacks.
#include <vector>

#include "scalinglab/model/gpt.h"
#include "scalinglab/train/param_table.h"
#include "scalinglab/train/trainer.h"

namespace scalinglab::model {

// The trainer's view of the layout: same names, offsets, sizes and weight-decay flags.
std::vector<train::ParamTensor> param_table(const Gpt& model);

// Callbacks that evaluate `model` (which must outlive them) at the trainer's parameters. The
// trainer's buffer is copied into the model on every call: one pass over N floats, negligible
// next to a forward pass over B·T tokens, and it keeps the trainer free to own and checkpoint
// its buffer. Batches are rows × (ctx + 1) tokens; inputs are tokens 0..ctx-1 of a row and
// targets tokens 1..ctx. loss_and_grad overwrites `grads` (it does not accumulate).
train::ModelHooks make_train_hooks(Gpt& model);

}  // namespace scalinglab::model
