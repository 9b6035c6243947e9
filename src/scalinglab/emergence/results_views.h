#pragma once
// Two views of an emergence sweep's long results table (results_export.h), each a table that
// `analyze` reads with its usual rule (every column but model, scale, value and errors is part of
// a curve's identity):
//   family view    the final checkpoints only (progress 1), `progress` dropped: one curve per
//                  task × metric across the family's model sizes — the curve Wei et al. 2022 and
//                  Schaeffer et al. 2023 argue about.
//   training view  every checkpoint, `model` = "<run>@<progress>", a `run` identity column and
//                  `progress` dropped: one curve per run × task × metric across its checkpoints,
//                  x = compute so far (6·N·D at the checkpoint). A checkpoint is a real trained
//                  model too, and here the scale steps are fine enough to see the continuous
//                  metrics rise before exact match does.
// Both throw io::InputError naming the table's source when the `progress` column is missing.
#include "scalinglab/io/table.h"

namespace scalinglab::emergence {

io::Table family_view(const io::Table& results);
io::Table training_view(const io::Table& results);

}  // namespace scalinglab::emergence
