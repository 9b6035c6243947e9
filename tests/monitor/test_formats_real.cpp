// Training logs as the real tools write them: llm.c's train_gpt2.cu console (its parameter table,
// "step k/N | loss … | lr …") and main.log (also resumed with -y 1), nanoGPT's console (config
// prints, "step N: train loss X, val loss Y" = an eval estimate, "iter N: loss X" = train),
// modded-nanogpt record files (the script's source, "====", nvidia-smi, "step:k/N val_loss:…"),
// Hugging Face trainer_state.json (also rewritten in place while followed), Lightning's
// metrics.csv (also rewritten with a new header), a resumed JSONL run; lr from every format,
// --col-loss classified by name, and every unused line counted by reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>

#include "common/temp_dir.h"
#include "monitor/read_log.h"
#include "monitor/tfevents_writer.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/monitor/log_reader.h"
#include "scalinglab/train/metrics.h"

namespace sm = scalinglab::monitor;
namespace st = scalinglab::testing;
using scalinglab::testing::TempDir;

namespace {

using Read = scalinglab::testing::ReadLog;

Read read_file(const std::string& path, sm::ParseOptions o = {}) { return scalinglab::testing::read_log(path, o); }

std::string error_of(const std::string& path, sm::ParseOptions o = {}) { return scalinglab::testing::read_error(path, o); }


std::vector<sm::LogRecord> train_of(const std::vector<sm::LogRecord>& v) {
  std::vector<sm::LogRecord> o;
  for (const auto& r : v)
    if (r.train_loss) o.push_back(r);
  return o;
}
std::vector<sm::LogRecord> eval_of(const std::vector<sm::LogRecord>& v) {
  std::vector<sm::LogRecord> o;
  for (const auto& r : v)
    if (r.eval_loss) o.push_back(r);
  return o;
}

long count_of(const Read& r, const std::string& reason) {
  auto it = r.ignored.find(reason);
  return it == r.ignored.end() ? 0 : it->second.count;
}
long ignored_total(const Read& r) {
  long n = 0;
  for (const auto& [reason, x] : r.ignored) n += x.count;
  return n;
}
long lines_in(const std::string& text) { return static_cast<long>(std::count(text.begin(), text.end(), '\n')); }

// The 1-based line on which `needle` occurs for the `nth` time (0-based).
long line_of(const std::string& text, const std::string& needle, int nth = 0) {
  size_t p = 0;
  for (int i = 0; i <= nth; ++i) {
    p = text.find(needle, i == 0 ? 0 : p + 1);
    if (p == std::string::npos) return -1;
  }
  return 1 + static_cast<long>(std::count(text.begin(), text.begin() + static_cast<long>(p), '\n'));
}

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// llm.c train_gpt2.cu stdout, as printed by a 124M run on FineWeb (8 × H100).
TEST(Formats, LlmcCudaConsoleWithParameterTable) {
  std::string text =
      "Multi-GPU support is enabled. Using 8 GPUs.\n"
      "+-----------------------+----------------------------------------------------+\n"
      "| Parameter             | Value                                              |\n"
      "+-----------------------+----------------------------------------------------+\n"
      "| train data pattern    | dev/data/fineweb10B/fineweb_train_*.bin            |\n"
      "| val data pattern      | dev/data/fineweb10B/fineweb_val_*.bin              |\n"
      "| output log dir        | log124M                                            |\n"
      "| checkpoint_every      | 5000                                               |\n"
      "| resume                | 0                                                  |\n"
      "| micro batch size B    | 64                                                 |\n"
      "| sequence length T     | 1024                                               |\n"
      "| total batch size      | 524288                                             |\n"
      "| LR scheduler          | cosine                                             |\n"
      "| learning rate (LR)    | 6.000000e-04                                       |\n"
      "| warmup iterations     | 700                                                |\n"
      "| final LR fraction     | 0.000000e+00                                       |\n"
      "| weight decay          | 1.000000e-01                                       |\n"
      "| skip update lossz     | 0.000000                                           |\n"
      "| skip update gradz     | 0.000000                                           |\n"
      "| max_steps             | -1                                                 |\n"
      "| val_loss_every        | 250                                                |\n"
      "| val_max_steps         | 20                                                 |\n"
      "| sample_every          | 20000                                              |\n"
      "| genT                  | 64                                                 |\n"
      "| overfit_single_batch  | 0                                                  |\n"
      "| use_master_weights    | enabled                                            |\n"
      "| gelu_fusion           | 0                                                  |\n"
      "| recompute             | 1                                                  |\n"
      "+-----------------------+----------------------------------------------------+\n"
      "| device                | NVIDIA H100 80GB HBM3                              |\n"
      "| peak TFlops           | 989.5                                              |\n"
      "| precision             | BF16                                               |\n"
      "+-----------------------+----------------------------------------------------+\n"
      "| weight init method    | d12                                                |\n"
      "| max_sequence_length T | 1024                                               |\n"
      "| vocab_size V          | 50257                                              |\n"
      "| padded_vocab_size Vp  | 50304                                              |\n"
      "| num_layers L          | 12                                                 |\n"
      "| num_heads NH          | 12                                                 |\n"
      "| channels C            | 768                                                |\n"
      "| num_parameters        | 124475904                                          |\n"
      "+-----------------------+----------------------------------------------------+\n"
      "| train_num_batches     | 18865                                              |\n"
      "| val_num_batches       | 20                                                 |\n"
      "+-----------------------+----------------------------------------------------+\n"
      "| run hellaswag         | no                                                 |\n"
      "+-----------------------+----------------------------------------------------+\n"
      "| Zero Optimization is enabled                                               |\n"
      "| num_processes         | 8                                                  |\n"
      "| zero_stage            | 1                                                  |\n"
      "+-----------------------+----------------------------------------------------+\n"
      "HellaSwag eval not found at dev/data/hellaswag/hellaswag_val.bin, skipping its evaluation\n"
      "You can turn it on with `./dev/download_starter_pack.sh`\n"
      "total desired batch size: 524288\n"
      "calculated gradient accumulation steps: 1\n"
      "\n"
      "num_parameters: 124475904 => bytes: 248951808\n"
      "allocated 237 MiB for model parameters\n"
      "device memory usage: 23911 MiB / 81559 MiB\n"
      "memory per sequence: 288 MiB\n"
      " -> estimated maximum batch size: 277\n"
      "val loss 11.010012\n";
  const double lrs[] = {8.57e-07, 1.71e-06, 2.57e-06, 3.43e-06};
  for (int k = 1; k <= 4; ++k)
    text += fmt("step %4.0f/18865 | loss %f (+nanz)| norm 15.4244 (+nanz)| lr %.2e | 40.05 ms | -100.0%% bf16 MFU | 13091 tok/s\n",
                k, 11.009070 - 0.3 * k, lrs[k - 1]);
  text += "val loss 9.845123\nwriting state to log124M/state_00000004_00001.bin\n"
          "step    5/18865 | loss 9.401234 (+2.31z)| norm 5.1234 (-0.33z)| lr 4.29e-06 | 44.93 ms | 38.2% bf16 MFU | 1163123 tok/s\n"
          "total average iteration time: 41.210000 ms\n";
  TempDir dir;
  Read r = read_file(dir.file("train124M.out", text));
  EXPECT_EQ(r.format, sm::LogFormat::kLog);
  // The table's "total batch size" row, then "total desired batch size".
  ASSERT_GE(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].line, line_of(text, "| total batch size"));
  EXPECT_DOUBLE_EQ(*r.records[0].tokens_per_step, 524288);
  EXPECT_EQ(r.records[1].line, line_of(text, "| train_num_batches"));  // max_steps -1: the planned steps are here
  EXPECT_DOUBLE_EQ(*r.records[1].total_steps, 18865);
  EXPECT_DOUBLE_EQ(*r.records[2].tokens_per_step, 524288);
  auto train = train_of(r.records), val = eval_of(r.records);
  ASSERT_EQ(train.size(), 5u);
  ASSERT_EQ(val.size(), 2u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_DOUBLE_EQ(*train[k].step, k + 1);
    EXPECT_NEAR(*train[k].train_loss, 11.009070 - 0.3 * (k + 1), 1e-6);
    EXPECT_DOUBLE_EQ(*train[k].lr, lrs[k]);
    EXPECT_DOUBLE_EQ(*train[k].total_steps, 18865);  // the N of "step k/N"
  }
  EXPECT_DOUBLE_EQ(*train[4].lr, 4.29e-06);
  EXPECT_DOUBLE_EQ(*val[0].step, 0);
  EXPECT_DOUBLE_EQ(*val[1].step, 4);  // after step 4/18865: 4 updates done
  EXPECT_DOUBLE_EQ(*val[1].total_steps, 18865);
  EXPECT_FALSE(val[1].lr.has_value());
  // Every line is either a record or counted: the other table rows, borders, messages, the blank line.
  EXPECT_EQ(static_cast<long>(r.records.size()) + ignored_total(r), lines_in(text));
  EXPECT_EQ(count_of(r, "blank line"), 1);
  EXPECT_EQ(count_of(r, "no loss on the line"), lines_in(text) - 1 - static_cast<long>(r.records.size()));
  EXPECT_EQ(r.ignored.at("no loss on the line").first_line, 1);
  EXPECT_EQ(r.ignored.at("no loss on the line").first_example, "Multi-GPU support is enabled. Using 8 GPUs.");
  EXPECT_TRUE(r.warnings.empty());
}

// A table that gives max_steps (-x 5000) and no train_num_batches row.
TEST(Formats, LlmcTableMaxStepsRow) {
  TempDir dir;
  Read r = read_file(dir.file("a.out", "| total batch size      | 65536      |\n| max_steps             | 5000       |\n"
                                       "val loss 4.5\nstep    1/5000 | loss 4.4 (+nanz)| norm 1.0 (+nanz)| lr 1.00e-05 | 40 ms\n"));
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_DOUBLE_EQ(*r.records[1].total_steps, 5000);
  EXPECT_DOUBLE_EQ(*r.records[2].total_steps, 5000);  // the val loss line carries what the log stated before it
  EXPECT_DOUBLE_EQ(*r.records[2].eval_loss, 4.5);
}

// llm.c main.log: a run resumed with -y 1 appends to it; its steps go back and every record comes
// out in file order (the monitor, not the reader, decides what a restart replaces).
TEST(Formats, LlmcMainLogResumedRunKeepsBothSegmentsInOrder) {
  std::string text;
  for (int s = 0; s <= 500; s += 50) {
    if (s % 250 == 0) text += fmt("s:%.0f tel:%.4f\n", s, 11.0 - 0.01 * s);
    text += fmt("s:%.0f trl:%.4f lr:%.6f norm:1.23\n", s, 10.9 - 0.01 * s, 6e-4 * (s + 1) / 700);
  }
  text += "s:500 eval:0.2534\n";
  for (int s = 250; s <= 750; s += 50) {  // resumed from the step-250 checkpoint
    if (s % 250 == 0) text += fmt("s:%.0f tel:%.4f\n", s, 10.8 - 0.01 * s);
    text += fmt("s:%.0f trl:%.4f lr:%.6f norm:1.20\n", s, 10.7 - 0.01 * s, 6e-4);
  }
  TempDir dir;
  Read r = read_file(dir.file("main.log", text));
  EXPECT_EQ(r.format, sm::LogFormat::kLog);
  auto train = train_of(r.records), val = eval_of(r.records);
  ASSERT_EQ(train.size(), 11u + 11u);
  ASSERT_EQ(val.size(), 3u + 3u);
  EXPECT_DOUBLE_EQ(*train[10].step, 500);
  EXPECT_DOUBLE_EQ(*train[11].step, 250);  // the resumed segment, in file order
  EXPECT_NEAR(*train[11].train_loss, 8.2, 1e-12);
  EXPECT_DOUBLE_EQ(*train[21].step, 750);
  EXPECT_NEAR(*train[1].lr, 0.000044, 1e-12);  // lr:%.6f
  EXPECT_DOUBLE_EQ(*val[3].step, 250);
  for (size_t i = 1; i < r.records.size(); ++i) EXPECT_LT(r.records[i - 1].line, r.records[i].line);
  EXPECT_EQ(count_of(r, "no loss on the line"), 1);  // the HellaSwag accuracy
  EXPECT_EQ(r.ignored.at("no loss on the line").first_example, "s:500 eval:0.2534");
}

// ---------------------------------------------------------------------------------------------
// nanoGPT train.py stdout with config/train_gpt2.py and a command-line override.
TEST(Formats, NanoGptCaptureEvalEstimatesAndIterLines) {
  std::string text =
      "Overriding config with config/train_gpt2.py:\n"
      "# config for training GPT-2 (124M) down to very nice loss of ~2.85 on 1 node of 8X A100 40GB\n"
      "# launch as the following (e.g. in a screen session) and wait ~5 days:\n"
      "# $ torchrun --standalone --nproc_per_node=8 train.py config/train_gpt2.py\n"
      "\n"
      "wandb_log = True\n"
      "wandb_project = 'owt'\n"
      "wandb_run_name='gpt2-124M'\n"
      "\n"
      "# these make the total batch size be ~0.5M\n"
      "# 12 batch size * 1024 block size * 5 gradaccum * 8 GPUs = 491,520\n"
      "batch_size = 12\n"
      "block_size = 1024\n"
      "gradient_accumulation_steps = 5 * 8\n"
      "\n"
      "# this makes total number of tokens be 300B\n"
      "max_iters = 600000\n"
      "lr_decay_iters = 600000\n"
      "\n"
      "# eval stuff\n"
      "eval_interval = 1000\n"
      "eval_iters = 200\n"
      "log_interval = 10\n"
      "\n"
      "# weight decay\n"
      "weight_decay = 1e-1\n"
      "\n"
      "Overriding: max_iters = 2000\n"
      "tokens per iteration will be: 491,520\n"
      "Initializing a new model from scratch\n"
      "defaulting to vocab_size of GPT-2 to 50304 (50257 rounded up for efficiency)\n"
      "number of parameters: 123.59M\n"
      "num decayed parameter tensors: 50, with 124,354,560 parameters\n"
      "num non-decayed parameter tensors: 25, with 19,200 parameters\n"
      "using fused AdamW: True\n"
      "compiling the model... (takes a ~minute)\n"
      "step 0: train loss 10.9882, val loss 10.9898\n"
      "iter 0: loss 10.9790, time 39843.31ms, mfu -100.00%\n"
      "iter 10: loss 9.6271, time 408.85ms, mfu 33.32%\n"
      "iter 20: loss 9.2187, time 409.41ms, mfu 33.31%\n"
      "step 1000: train loss 3.9212, val loss 3.9107\n"
      "saving checkpoint to out\n"
      "iter 1000: loss 3.9733, time 16244.33ms, mfu 32.41%\n"
      "iter 1010: loss 3.8645, time 409.93ms, mfu 32.50%\n"
      "step 2000: train loss 3.4521, val loss 3.4710\n"
      "saving checkpoint to out\n"
      "iter 2000: loss 3.5002, time 16102.01ms, mfu 32.44%\n";
  TempDir dir;
  Read r = read_file(dir.file("train.log", text));
  EXPECT_EQ(r.format, sm::LogFormat::kLog);
  auto train = train_of(r.records), val = eval_of(r.records);
  // "step N: train loss X, val loss Y" is estimate_loss(): an eval point only, never a train point.
  ASSERT_EQ(val.size(), 3u);
  for (const auto& v : val) EXPECT_FALSE(v.train_loss.has_value());
  EXPECT_DOUBLE_EQ(*val[1].step, 1000);
  EXPECT_DOUBLE_EQ(*val[1].eval_loss, 3.9107);
  EXPECT_EQ(val[1].line, line_of(text, "step 1000:"));
  // "iter N: loss X" lines are the train series; at step 1000 both series have a point.
  ASSERT_EQ(train.size(), 6u);
  EXPECT_DOUBLE_EQ(*train[3].step, 1000);
  EXPECT_DOUBLE_EQ(*train[3].train_loss, 3.9733);
  for (const auto& t : train) EXPECT_FALSE(t.eval_loss.has_value());
  // tokens per iteration, and the planned steps: the config's max_iters, then the override.
  double tps = 0;
  for (const auto& x : r.records)
    if (x.tokens_per_step) tps = *x.tokens_per_step;
  EXPECT_DOUBLE_EQ(tps, 491520);
  EXPECT_DOUBLE_EQ(*train[0].total_steps, 2000);
  EXPECT_DOUBLE_EQ(*val[2].total_steps, 2000);
  // Unused: the config's other lines, messages, "saving checkpoint", blank lines.
  EXPECT_EQ(count_of(r, "blank line"), 6);
  EXPECT_EQ(static_cast<long>(r.records.size()) + ignored_total(r), lines_in(text));
  EXPECT_EQ(r.ignored.at("no loss on the line").first_line, 1);
  EXPECT_EQ(count_of(r, "no loss on the line"), lines_in(text) - 6 - 3 - 6 - 3);  // 3 = max_iters ×2 + tokens line
}

// ---------------------------------------------------------------------------------------------
// modded-nanogpt: the record file starts with train_gpt.py's whole source.
std::string modded_prelude() {
  return R"PY(import os
import sys
with open(sys.argv[0]) as f:
    code = f.read() # read the code of this file ASAP, for logging
import uuid
import time
import copy
import glob
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

os.environ["PYTORCH_CUDA_ALLOC_CONF"] = "expandable_segments:True"
import torch
torch.empty(1, device="cuda", requires_grad=True).backward() # prevents a bug on some systems
from torch import Tensor, nn
import torch.nn.functional as F
import torch.distributed as dist

"""
The log looks like this (the source is printed first, so this is not a log line):
step:0/1393 val_loss:10.8258 train_time:0ms step_avg:0.03ms
step: int
"""

@dataclass
class Hyperparameters:
    # data
    train_files = "data/fineweb10B/fineweb_train_*.bin" # input .bin to train on
    val_files = "data/fineweb10B/fineweb_val_*.bin" # input .bin to eval validation loss on
    val_tokens = 10485760 # how many tokens of validation data? it's important to keep this fixed for consistent comparisons
    # optimization
    num_iterations = 1393 # number of iterations to run
    cooldown_frac = 0.4 # fraction of training spent cooling down the learning rate
    # evaluation and logging
    val_loss_every = 125 # every how many steps to evaluate val loss? 0 for only at the end
    save_checkpoint = False
args = Hyperparameters()

def print0(s, console=False):
    if master_process:
        with open(logfile, "a") as f:
            if console:
                print(s)
            print(s, file=f)

# begin by printing this file (the Python code)
print0(code)
print0("="*100)
# log information about the hardware/software environment this is running on
print0(f"Running Python {sys.version}")
print0(f"Running PyTorch {torch.version.__version__} compiled for CUDA {torch.version.cuda}")
def nvidia_smi():
    import subprocess  # avoid top level import
    return subprocess.run(["nvidia-smi"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout
print0(nvidia_smi())
print0("="*100)

train_steps = args.num_iterations
for step in range(train_steps + 1):
    last_step = (step == train_steps)
    if last_step or (args.val_loss_every > 0 and step % args.val_loss_every == 0):
        model.eval()
        val_loss = 0
        with torch.no_grad():
            for _ in range(val_steps):
                inputs, targets = next(val_loader)
                val_loss += model(inputs, targets, get_window_size_blocks(step))
        val_loss /= val_steps
        dist.all_reduce(val_loss, op=dist.ReduceOp.AVG)
        print0(f"step:{step}/{train_steps} val_loss:{val_loss:.4f} train_time:{training_time_ms:.0f}ms step_avg:{training_time_ms/max(step, 1):.2f}ms", console=True)
        model.train()
    if last_step:
        break
    inputs, targets = next(train_loader)
    model(inputs, targets, get_window_size_blocks(step)).backward()
    approx_training_time_ms = training_time_ms + 1000 * (time.perf_counter() - t0)
    print0(f"step:{step+1}/{train_steps} train_time:{approx_training_time_ms:.0f}ms step_avg:{approx_training_time_ms/(step + 1):.2f}ms", console=True)

print0(f"peak memory allocated: {torch.cuda.max_memory_allocated() // 1024 // 1024} MiB "
       f"reserved: {torch.cuda.max_memory_reserved() // 1024 // 1024} MiB", console=True)
dist.destroy_process_group()
)PY";
}

std::string nvidia_smi_block() {
  return "Sat Jan 11 03:12:10 2025       \n"
         "+-----------------------------------------------------------------------------------------+\n"
         "| NVIDIA-SMI 550.127.05             Driver Version: 550.127.05     CUDA Version: 12.4     |\n"
         "|-----------------------------------------+------------------------+----------------------+\n"
         "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |\n"
         "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |\n"
         "|                                         |                        |               MIG M. |\n"
         "|=========================================+========================+======================|\n"
         "|   0  NVIDIA H100 80GB HBM3          On  |   00000000:19:00.0 Off |                    0 |\n"
         "| N/A   35C    P0            119W /  700W |    5857MiB /  81559MiB |      0%      Default |\n"
         "|                                         |                        |             Disabled |\n"
         "+-----------------------------------------+------------------------+----------------------+\n"
         "\n"
         "+-----------------------------------------------------------------------------------------+\n"
         "| Processes:                                                                              |\n"
         "|  GPU   GI   CI        PID   Type   Process name                              GPU Memory |\n"
         "|        ID   ID                                                               Usage      |\n"
         "|=========================================================================================|\n"
         "+-----------------------------------------------------------------------------------------+\n"
         "\n";
}

TEST(Formats, ModdedNanoGptRecordFile) {
  const std::string sep(100, '=');
  const std::string prelude = modded_prelude();
  ASSERT_GE(lines_in(prelude), 30);
  std::string text = prelude + sep + "\n" + "Running Python 3.12.7 (main, Nov  6 2024, 18:29:01) [GCC 14.2.0]\n" +
                     "Running PyTorch 2.7.0.dev20250110+cu126 compiled for CUDA 12.6\n" + nvidia_smi_block() + sep + "\n";
  const double vals[] = {10.8258, 4.3986, 3.9811, 3.2783};
  const int val_steps[] = {0, 125, 250, 1393};
  int v = 0;
  for (int step = 0; step <= 1393; ++step) {
    if (v < 4 && step == val_steps[v])
      text += fmt("step:%.0f/1393 val_loss:%.4f train_time:%.0fms step_avg:", step, vals[v++], step * 80.17) +
              (step == 0 ? "0.03ms\n" : fmt("%.2fms\n", 80.17));
    if (step == 1393) break;
    if (step < 3 || step == 124 || step == 249)
      text += fmt("step:%.0f/1393 train_time:%.0fms step_avg:", step + 1, (step + 1) * 80.17) + (step < 10 ? "nanms\n" : "80.17ms\n");
  }
  text += "peak memory allocated: 28193 MiB reserved: 29768 MiB\n";
  TempDir dir;
  Read r = read_file(dir.file("0a9d8c61-d2ab-4a24-9e8f-3cd9ec1ac3ba.txt", text));
  EXPECT_EQ(r.format, sm::LogFormat::kLog);  // not fooled by the first line (`import os`)
  ASSERT_EQ(r.records.size(), 4u);  // the val_loss lines; the source's look-alikes give nothing
  for (int i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(*r.records[i].step, val_steps[i]);
    EXPECT_DOUBLE_EQ(*r.records[i].eval_loss, vals[i]);
    EXPECT_FALSE(r.records[i].train_loss.has_value());
    EXPECT_DOUBLE_EQ(*r.records[i].total_steps, 1393);
  }
  EXPECT_EQ(r.records[1].line, line_of(text, "step:125/1393 val_loss"));
  EXPECT_GT(r.records[0].line, lines_in(prelude) + 1);
  // The source through its ==== line, counted as such; the train_time-only lines have no loss.
  EXPECT_EQ(count_of(r, "script source (before the ==== line)"), lines_in(prelude) + 1);
  EXPECT_EQ(r.ignored.at("script source (before the ==== line)").first_example, "import os");
  EXPECT_EQ(r.ignored.at("script source (before the ==== line)").first_line, 1);
  EXPECT_EQ(count_of(r, "blank line"), 2);  // in the nvidia-smi output
  EXPECT_EQ(static_cast<long>(r.records.size()) + ignored_total(r), lines_in(text));
  EXPECT_EQ(count_of(r, "a format template, not values"), 0);
  EXPECT_TRUE(r.warnings.empty());

  // Older records (2024): "train_loss" on the step lines, "Running pytorch … nvidia-smi:".
  std::string old = "import os\nimport sys\nwith open(sys.argv[0]) as f:\n    code = f.read() # read the code of this file ASAP, for logging\n"
                    "import uuid\nimport glob\nimport time\n\nimport numpy as np\nimport torch\n"
                    "            print0(f'step:{step}/{args.num_iterations} val_loss:{val_loss:.4f} train_time:{training_time_ms:.0f}ms step_avg:{training_time_ms/(timed_steps-1):.2f}ms')\n"
                    "        print0(f\"step:{step+1}/{args.num_iterations} train_loss:{train_loss.item():.4f} train_time:{approx_time:.0f}ms step_avg:{approx_time/timed_steps:.2f}ms\")\n" +
                    sep + "\nRunning pytorch 2.5.0+cu124 compiled for CUDA 12.4\nnvidia-smi:\n" + nvidia_smi_block() + sep + "\n" +
                    "step:0/3000 val_loss:10.8258 train_time:0ms step_avg:nanms\n"
                    "step:1/3000 train_loss:10.8258 train_time:29353ms step_avg:nanms\n"
                    "step:2/3000 train_loss:10.0920 train_time:29724ms step_avg:nanms\n"
                    "step:3/3000 train_loss:9.5911 train_time:30115ms step_avg:nanms\n";
  Read o = read_file(dir.file("old.txt", old));
  auto train = train_of(o.records), val = eval_of(o.records);
  ASSERT_EQ(train.size(), 3u);
  ASSERT_EQ(val.size(), 1u);
  EXPECT_DOUBLE_EQ(*train[1].step, 2);
  EXPECT_DOUBLE_EQ(*train[1].train_loss, 10.0920);
  EXPECT_DOUBLE_EQ(*train[1].total_steps, 3000);
  EXPECT_EQ(count_of(o, "script source (before the ==== line)"), 13);
}

// Without the Python prelude (a log captured from the console, or one whose source does not
// start with an import), template lines are skipped and counted; a real line with a bad value is
// still an error.
TEST(Formats, TemplatesAreSkippedButBadValuesAreErrors) {
  TempDir dir;
  std::string text =
      "W0111 03:12:00.123000 140 torch/distributed/run.py:793] *****************************************\n"
      "step:{step}/{train_steps} val_loss:{val_loss:.4f} train_time:{training_time_ms:.0f}ms\n"
      "step:{step+1}/{args.num_iterations} train_loss:{train_loss.item():.4f}\n"
      "step:0/100 val_loss:{val_loss:.4f}\n"
      "step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}\n"
      "iter {iter_num}: loss {lossf:.4f}, time {dt*1000:.2f}ms\n"
      "val loss {val_loss}\n"
      "step:0/100 val_loss:10.8 train_time:0ms step_avg:nanms\n";
  Read r = read_file(dir.file("console.txt", text));
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_DOUBLE_EQ(*r.records[0].eval_loss, 10.8);
  EXPECT_EQ(count_of(r, "a format template, not values"), 6);
  EXPECT_EQ(r.ignored.at("a format template, not values").first_line, 2);
  std::string e = error_of(dir.file("bad.txt", text + "step:5/100 val_loss:abc train_time:10ms\n"));
  EXPECT_NE(e.find("bad.txt:9: expected a number after 'val_loss:', got 'abc'"), std::string::npos) << e;
  e = error_of(dir.file("bad2.txt", "step:5/100 train_loss: train_time:10ms\n"));
  EXPECT_NE(e.find("bad2.txt:1: expected a number after 'train_loss:', got nothing"), std::string::npos) << e;
  // A Python source without its ==== line yields nothing (and says why), rather than guesses.
  Read p = read_file(dir.file("script.py", "import os\nprint('step:1/10 val_loss:2.0')\nstep:1/10 val_loss:2.0\n"));
  EXPECT_TRUE(p.records.empty());
  EXPECT_EQ(count_of(p, "script source (before the ==== line)"), 3);
}

// ---------------------------------------------------------------------------------------------
// Hugging Face trainer_state.json as Trainer writes it: json.dumps(asdict(state), indent=2, sort_keys=True) + "\n".
struct HfEntry {
  enum Kind { kTrain, kEval, kSummary } kind;
  int step;
  double loss, lr = 0;
};

// Python's repr of a float: the shortest text that reads back as the same double.
std::string hf_num(double x) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, x);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string trainer_state(const std::vector<HfEntry>& entries, int max_steps = 1500, int global_step = 1500) {
  std::string s = "{\n  \"best_global_step\": null,\n  \"best_metric\": null,\n  \"best_model_checkpoint\": null,\n"
                  "  \"epoch\": " + hf_num(3.0 * global_step / max_steps) + ",\n  \"eval_steps\": 500,\n"
                  "  \"global_step\": " + std::to_string(global_step) + ",\n  \"is_hyper_param_search\": false,\n"
                  "  \"is_local_process_zero\": true,\n  \"is_world_process_zero\": true,\n  \"log_history\": [";
  for (size_t i = 0; i < entries.size(); ++i) {
    const HfEntry& e = entries[i];
    double epoch = 3.0 * e.step / max_steps;
    s += std::string(i ? "," : "") + "\n    {\n";
    if (e.kind == HfEntry::kTrain)
      s += "      \"epoch\": " + hf_num(epoch) + ",\n      \"grad_norm\": 1.2345678,\n      \"learning_rate\": " + hf_num(e.lr) +
           ",\n      \"loss\": " + hf_num(e.loss) + ",\n      \"step\": " + std::to_string(e.step) + "\n";
    else if (e.kind == HfEntry::kEval)
      s += "      \"epoch\": " + hf_num(epoch) + ",\n      \"eval_loss\": " + hf_num(e.loss) +
           ",\n      \"eval_runtime\": 10.2031,\n      \"eval_samples_per_second\": 98.011,\n"
           "      \"eval_steps_per_second\": 12.251,\n      \"step\": " + std::to_string(e.step) + "\n";
    else
      s += "      \"epoch\": 3.0,\n      \"step\": " + std::to_string(e.step) +
           ",\n      \"total_flos\": 1.2e+15,\n      \"train_loss\": " + hf_num(e.loss) +
           ",\n      \"train_runtime\": 123.0,\n      \"train_samples_per_second\": 1.0,\n      \"train_steps_per_second\": 0.1\n";
    s += "    }";
  }
  s += "\n  ],\n  \"logging_steps\": 50,\n  \"max_steps\": " + std::to_string(max_steps) +
       ",\n  \"num_input_tokens_seen\": 0,\n  \"num_train_epochs\": 3,\n  \"save_steps\": 500,\n"
       "  \"stateful_callbacks\": {\n    \"TrainerControl\": {\n      \"args\": {\n        \"should_epoch_stop\": false,\n"
       "        \"should_evaluate\": false,\n        \"should_log\": false,\n        \"should_save\": true,\n"
       "        \"should_training_stop\": true\n      },\n      \"attributes\": {}\n    }\n  },\n"
       "  \"total_flos\": 1.2e+15,\n  \"train_batch_size\": 8,\n  \"trial_name\": null,\n  \"trial_params\": null\n}\n";
  return s;
}

std::vector<HfEntry> hf_history(int upto, bool summary, double shift = 0) {
  std::vector<HfEntry> v;
  for (int s = 50; s <= upto; s += 50) {
    v.push_back({HfEntry::kTrain, s, 2.5 - 0.0003 * s + shift, 5e-5 * (1 - s / 1500.0)});
    if (s % 500 == 0) v.push_back({HfEntry::kEval, s, 2.4 - 0.0003 * s + shift});
  }
  if (summary) v.push_back({HfEntry::kSummary, upto, 2.0});
  return v;
}

TEST(Formats, HuggingFaceTrainerState) {
  TempDir dir;
  std::string text = trainer_state(hf_history(1500, true));
  Read r = read_file(dir.file("output/trainer_state.json", text));
  EXPECT_EQ(r.format, sm::LogFormat::kTrainerState);
  auto train = train_of(r.records), val = eval_of(r.records);
  ASSERT_EQ(train.size(), 30u);
  ASSERT_EQ(val.size(), 3u);
  ASSERT_EQ(r.records.size(), 33u);  // the summary entry is not a train point
  EXPECT_DOUBLE_EQ(*train[0].step, 50);
  EXPECT_DOUBLE_EQ(*train[0].train_loss, 2.5 - 0.015);
  EXPECT_DOUBLE_EQ(*train[0].lr, 5e-5 * (1 - 50 / 1500.0));
  EXPECT_EQ(train[0].line, 12);  // the entry's "{"
  EXPECT_EQ(train[1].line, 19);
  EXPECT_DOUBLE_EQ(*val[0].step, 500);
  EXPECT_DOUBLE_EQ(*val[0].eval_loss, 2.4 - 0.15);
  EXPECT_FALSE(val[0].lr.has_value());
  EXPECT_EQ(val[0].line, line_of(text, "\"eval_loss\"") - 2);
  for (const auto& x : r.records) EXPECT_DOUBLE_EQ(*x.total_steps, 1500);  // max_steps on every record
  EXPECT_EQ(train[29].line, line_of(text, "\"step\": 1500") - 5);
  ASSERT_EQ(r.ignored.size(), 1u);
  const auto& summary = r.ignored.begin()->second;
  EXPECT_EQ(summary.count, 1);
  EXPECT_EQ(summary.first_line, line_of(text, "\"train_runtime\"") - 5);
  EXPECT_NE(r.ignored.begin()->first.find("summary"), std::string::npos);
  EXPECT_TRUE(r.warnings.empty());

  // Detected by content under any name, and when written compactly on one line.
  EXPECT_EQ(read_file(dir.file("state.json", text)).format, sm::LogFormat::kTrainerState);
  std::string compact = "{\"global_step\": 100, \"log_history\": [{\"loss\": 2.1, \"learning_rate\": 1e-4, \"step\": 100}], \"max_steps\": 200}\n";
  Read c = read_file(dir.file("compact.json", compact));
  EXPECT_EQ(c.format, sm::LogFormat::kTrainerState);
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_DOUBLE_EQ(*c.records[0].total_steps, 200);
  EXPECT_EQ(sm::parse_format("trainer-state"), sm::LogFormat::kTrainerState);
  EXPECT_STREQ(sm::format_name(sm::LogFormat::kTrainerState), "trainer-state");

  // Fed in pieces: nothing until the document is complete, then every entry at once.
  auto p = sm::make_parser(sm::LogFormat::kTrainerState, "x", {});
  std::vector<sm::LogRecord> out;
  size_t half = text.size() / 2;
  p->feed(std::string_view(text).substr(0, half), out);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(p->document_complete());
  p->feed(std::string_view(text).substr(half), out);
  EXPECT_EQ(out.size(), 33u);
  EXPECT_TRUE(p->document_complete());
}

TEST(Formats, TrainerStateCutOrMalformed) {
  TempDir dir;
  std::string text = trainer_state(hf_history(1000, false), 1500, 1000);
  // Cut mid-write: the usual warning, nothing read.
  std::string cut = text.substr(0, text.size() * 2 / 3);
  while (cut.back() == '\n' || cut.back() == ' ') cut.pop_back();
  Read r = read_file(dir.file("trainer_state.json", cut));
  EXPECT_EQ(r.format, sm::LogFormat::kTrainerState);
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(count_of(r, "the JSON document, cut before its end"), lines_in(cut) + 1);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("trainer_state.json:" + std::to_string(lines_in(cut) + 1) + ": the JSON document ends before it is complete"),
            std::string::npos) << r.warnings[0];
  // A complete document with an error in it: an error naming the line.
  std::string bad = text;
  size_t p = bad.rfind("\"loss\": ", bad.find("\"step\": 300"));
  bad.insert(p, ",");
  std::string e = error_of(dir.file("bad/trainer_state.json", bad));
  EXPECT_NE(e.find("trainer_state.json:" + std::to_string(line_of(bad, ",\"loss\"")) + ": not valid JSON"), std::string::npos) << e;
  // A value that is not a number: the entry's line and the key.
  std::string word = text;
  size_t q = word.rfind("\"loss\": ", word.find("\"step\": 100")) + 8;
  word.replace(q, word.find(',', q) - q, "\"n/a\"");
  e = error_of(dir.file("word/trainer_state.json", word));
  EXPECT_NE(e.find("trainer_state.json:" + std::to_string(line_of(word, "\"n/a\"") - 4) + ": column 'loss': expected a number"),
            std::string::npos) << e;
  // JSON without log_history.
  e = error_of(dir.file("other.json", "{\n  \"a\": 1\n}\n"));
  EXPECT_NE(e.find("other.json:1: no \"log_history\" array"), std::string::npos) << e;
  // Anything after the document.
  e = error_of(dir.file("twice/trainer_state.json", text + text));
  EXPECT_NE(e.find("trainer_state.json:" + std::to_string(lines_in(text) + 1) + ": data after the end of the JSON document"),
            std::string::npos) << e;
}

// HF rewrites output_dir/trainer_state.json whole at each save: followed, each new version yields
// only the entries not returned before.
TEST(Formats, TrainerStateRewrittenInPlaceWhileFollowed) {
  TempDir dir;
  std::string path = dir / "trainer_state.json";
  sm::LogReader reader(path, {});
  EXPECT_TRUE(reader.poll(true).empty());  // not there yet
  dir.file("trainer_state.json", trainer_state(hf_history(500, false), 1500, 500));
  auto a = reader.poll(true);
  ASSERT_EQ(a.size(), 11u);  // 10 train + 1 eval
  EXPECT_TRUE(reader.poll(true).empty());  // unchanged
  dir.file("trainer_state.json", trainer_state(hf_history(1000, false), 1500, 1000));
  auto b = reader.poll(true);
  ASSERT_EQ(b.size(), 11u);  // steps 550…1000 only
  EXPECT_DOUBLE_EQ(*b[0].step, 550);
  EXPECT_DOUBLE_EQ(*b.back().step, 1000);
  EXPECT_DOUBLE_EQ(*b.back().eval_loss, 2.4 - 0.3);
  EXPECT_EQ(reader.rereads(), 1);
  // Caught mid-write (truncated, partly rewritten): nothing until it is whole again.
  std::string v3 = trainer_state(hf_history(1500, true), 1500, 1500);
  dir.file("trainer_state.json", v3.substr(0, v3.size() / 3));
  EXPECT_TRUE(reader.poll(true).empty());
  { std::ofstream(path, std::ios::binary | std::ios::app) << v3.substr(v3.size() / 3); }
  auto c = reader.poll(true);
  ASSERT_EQ(c.size(), 11u);  // 1050…1500 and the eval at 1500; not the summary
  EXPECT_DOUBLE_EQ(*c[0].step, 1050);
  // A run resumed from checkpoint-500 that went another way: its entries from 550 on come again.
  dir.file("trainer_state.json", trainer_state([] {
             auto v = hf_history(500, false);
             for (auto& e : hf_history(800, false, 0.01))
               if (e.step > 500) v.push_back(e);
             return v;
           }(), 1500, 800));
  auto d = reader.poll(true);
  ASSERT_EQ(d.size(), 6u);
  EXPECT_DOUBLE_EQ(*d[0].step, 550);
  EXPECT_DOUBLE_EQ(*d[0].train_loss, 2.5 - 0.0003 * 550 + 0.01);
  std::vector<std::string> w;
  EXPECT_TRUE(reader.finish(w).empty());
  EXPECT_TRUE(w.empty());
}

// scalinglab's trainer replaces metrics.jsonl (atomic rename) when a run resumes, keeping the
// rows up to the resumed step; a rerun truncates a text log. Followed, both are read again.
TEST(Formats, ReplacedOrTruncatedTextLogsAreReadAgain) {
  TempDir dir;
  auto rows = [](int from, int to, double shift) {
    std::string s;
    for (int k = from; k <= to; k += 100) s += fmt("{\"step\": %.0f, \"tokens\": %.0f, \"train_loss\": %.2f}\n", k, k * 1000.0, 5 - 0.001 * k + shift);
    return s;
  };
  std::string path = dir.file("metrics.jsonl", rows(0, 500, 0));
  sm::LogReader reader(path, {});
  ASSERT_EQ(reader.poll(true).size(), 6u);
  std::filesystem::rename(dir.file("metrics.jsonl.tmp", rows(0, 300, 0) + rows(400, 600, 0.5)), path);  // resumed at 300
  auto a = reader.poll(true);
  ASSERT_EQ(a.size(), 3u);  // 400, 500, 600 of the resumed run
  EXPECT_DOUBLE_EQ(*a[0].step, 400);
  EXPECT_DOUBLE_EQ(*a[0].train_loss, 5.1);
  EXPECT_EQ(a[0].line, 5);
  EXPECT_EQ(reader.rereads(), 1);
  // A rerun truncating train.log: read from its start, its first identical lines skipped.
  std::string log = dir.file("train.log", "iter 0: loss 4.2, time 1ms\niter 10: loss 4.1, time 1ms\niter 20: loss 4.0, time 1ms\n");
  sm::LogReader text(log, {});
  EXPECT_EQ(text.poll(true).size(), 3u);
  dir.file("train.log", "iter 0: loss 4.2, time 1ms\niter 10: loss 4.15, time 1ms\n");
  auto b = text.poll(true);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_DOUBLE_EQ(*b[0].train_loss, 4.15);
}

// TensorBoard writers only append: an event file that shrinks is an error.
TEST(Formats, ShrunkEventFileIsAnError) {
  TempDir dir;
  std::string one = st::record(st::file_version_event(1.7e9)), two = st::record(st::event(1.7e9, 10, {st::simple_value("train/loss", 4.f)}));
  std::string path = dir.file("events.out.tfevents.1.host", one + two);
  sm::LogReader reader(path, {});
  EXPECT_EQ(reader.poll(true).size(), 1u);
  dir.file("events.out.tfevents.1.host", one);
  try {
    reader.poll(true);
    ADD_FAILURE() << "no error";
  } catch (const scalinglab::io::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("events.out.tfevents.1.host: the file shrank from " + std::to_string(one.size() + two.size()) +
                                         " to " + std::to_string(one.size()) + " bytes"),
              std::string::npos)
        << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Lightning's CSVLogger: sorted header, sparse rows (step metrics, LearningRateMonitor rows,
// validation rows, epoch-end rows).
TEST(Formats, LightningMetricsCsv) {
  std::string text = "epoch,lr-AdamW,step,train_loss_epoch,train_loss_step,val_loss\n";
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (int b = 0; b < 2; ++b) {
      int step = epoch * 100 + b * 50 + 49;
      text += fmt(",%.6g,%.0f,,,\n", 1e-3 * (1 - step / 200.0), step);  // LearningRateMonitor: no epoch
      text += fmt("%.0f,,%.0f,,", epoch, step) + fmt("%.4f,\n", 2.3 - 0.002 * step);
    }
    int last = epoch * 100 + 99;
    text += fmt("%.0f,,%.0f,,,", epoch, last) + fmt("%.4f\n", 2.2 - 0.002 * last);  // validation
    text += fmt("%.0f,,%.0f,", epoch, last) + fmt("%.4f,,\n", 2.25 - 0.002 * last);  // the epoch mean
  }
  TempDir dir;
  Read r = read_file(dir.file("lightning_logs/version_0/metrics.csv", text));
  EXPECT_EQ(r.format, sm::LogFormat::kCsv);
  auto train = train_of(r.records), val = eval_of(r.records);
  ASSERT_EQ(train.size(), 4u);  // train_loss_step, not the epoch means
  EXPECT_DOUBLE_EQ(*train[1].step, 99);
  EXPECT_NEAR(*train[1].train_loss, 2.102, 1e-12);
  ASSERT_EQ(val.size(), 2u);
  EXPECT_DOUBLE_EQ(*val[1].step, 199);
  EXPECT_NEAR(*val[1].eval_loss, 1.802, 1e-12);
  std::vector<sm::LogRecord> lrs;
  for (const auto& x : r.records)
    if (x.lr) lrs.push_back(x);
  ASSERT_EQ(lrs.size(), 4u);  // lr-AdamW rows, records with only the lr
  EXPECT_DOUBLE_EQ(*lrs[2].step, 149);
  EXPECT_NEAR(*lrs[2].lr, 0.000255, 1e-15);
  EXPECT_EQ(count_of(r, "no loss or lr in the row"), 2);  // the train_loss_epoch rows
  EXPECT_EQ(static_cast<long>(r.records.size()) + ignored_total(r) + 1, lines_in(text));

  // Only the epoch mean logged (on_step=False): it is the train series; val_loss_epoch is eval.
  Read e = read_file(dir.file("e.csv", "epoch,step,train_loss_epoch,val_loss_epoch\n0,99,,2.1\n0,99,2.2,\n1,199,,1.9\n1,199,2.0,\n"));
  EXPECT_EQ(train_of(e.records).size(), 2u);
  ASSERT_EQ(eval_of(e.records).size(), 2u);
  EXPECT_DOUBLE_EQ(*eval_of(e.records)[1].eval_loss, 1.9);
  // Several optimizers or parameter groups: the first lr column, not an ambiguity.
  Read g = read_file(dir.file("g.csv", "epoch,lr-AdamW/pg1,lr-AdamW/pg2,step,train_loss\n0,0.001,0.002,9,2.5\n"));
  ASSERT_EQ(g.records.size(), 1u);
  EXPECT_DOUBLE_EQ(*g.records[0].lr, 0.001);
}

// CSVLogger rewrites metrics.csv whole when a new metric appears (val_loss at the first
// validation): followed, the rewrite yields only the rows not returned before.
TEST(Formats, LightningCsvRewrittenWithANewHeaderWhileFollowed) {
  TempDir dir;
  std::string v1 = "epoch,lr-AdamW,step,train_loss_step\n,0.001,49,\n0,,49,2.2\n0,,99,2.1\n";
  std::string path = dir.file("metrics.csv", v1);
  sm::LogReader reader(path, {});
  auto a = reader.poll(true);
  ASSERT_EQ(a.size(), 3u);
  std::string v2 = "epoch,lr-AdamW,step,train_loss_step,val_loss\n,0.001,49,,\n0,,49,2.2,\n0,,99,2.1,\n0,,99,,2.05\n0,,149,2.0,\n";
  dir.file("metrics.csv", v2);
  auto b = reader.poll(true);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_DOUBLE_EQ(*b[0].eval_loss, 2.05);
  EXPECT_DOUBLE_EQ(*b[1].train_loss, 2.0);
  EXPECT_EQ(b[1].line, 6);
  // Appended rows after the rewrite are read as usual.
  { std::ofstream(path, std::ios::binary | std::ios::app) << "0,,199,1.9,\n"; }
  auto c = reader.poll(true);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_DOUBLE_EQ(*c[0].step, 199);
}

// ---------------------------------------------------------------------------------------------
// A JSONL run resumed from a checkpoint appends steps that go back: all come out, in file order.
TEST(Formats, ResumedJsonlRunKeepsBothSegmentsInOrder) {
  std::string text;
  auto row = [&](int s, double shift) {
    scalinglab::train::MetricsRow m;
    m.step = static_cast<uint64_t>(s);
    m.tokens = m.step * 4096;
    m.flops = 1e9 * static_cast<double>(m.tokens);
    m.train_loss = 5.0 - 0.002 * s + shift;
    if (s % 200 == 0) m.eval_loss = 5.1 - 0.002 * s + shift;
    m.lr = 1e-3 * (1 - s / 2000.0);
    text += scalinglab::train::to_json(m).dump() + "\n";
  };
  for (int s = 0; s <= 600; s += 100) row(s, 0);
  for (int s = 400; s <= 1000; s += 100) row(s, 0.01);
  TempDir dir;
  Read r = read_file(dir.file("metrics.jsonl", text));
  EXPECT_EQ(r.format, sm::LogFormat::kJsonl);
  ASSERT_EQ(r.records.size(), 14u);
  std::vector<double> steps;
  for (const auto& x : r.records) steps.push_back(*x.step);
  EXPECT_EQ(steps, (std::vector<double>{0, 100, 200, 300, 400, 500, 600, 400, 500, 600, 700, 800, 900, 1000}));
  EXPECT_NEAR(*r.records[7].train_loss, 4.21, 1e-12);
  EXPECT_NEAR(*r.records[7].eval_loss, 4.31, 1e-12);
  EXPECT_NEAR(*r.records[7].lr, 8e-4, 1e-15);  // scalinglab's metrics.jsonl "lr" key
  EXPECT_DOUBLE_EQ(*r.records[13].tokens, 1000 * 4096);
  EXPECT_TRUE(r.ignored.empty());
}

// ---------------------------------------------------------------------------------------------
TEST(Formats, LrFromEveryFormat) {
  TempDir dir;
  Read csv = read_file(dir.file("a.csv", "step,train/loss,train/learning_rate\n10,4.0,3e-4\n"));
  EXPECT_DOUBLE_EQ(*csv.records[0].lr, 3e-4);
  Read tsv = read_file(dir.file("a.tsv", "iter\tloss\tlr\n10\t4.0\t2e-4\n"));
  EXPECT_DOUBLE_EQ(*tsv.records[0].lr, 2e-4);
  Read jsonl = read_file(dir.file("a.jsonl", "{\"_step\": 10, \"train/loss\": 4.0, \"optim/lr\": 1e-4}\n"
                                             "{\"_step\": 20, \"train/loss\": 3.9, \"train/lr\": 9e-5}\n"
                                             "{\"_step\": 30, \"train/loss\": 3.8, \"lr-AdamW\": 8e-5}\n"
                                             "{\"_step\": 30, \"_runtime\": 12.5}\n"));
  ASSERT_EQ(jsonl.records.size(), 3u);
  EXPECT_DOUBLE_EQ(*jsonl.records[0].lr, 1e-4);
  EXPECT_DOUBLE_EQ(*jsonl.records[1].lr, 9e-5);
  EXPECT_DOUBLE_EQ(*jsonl.records[2].lr, 8e-5);
  EXPECT_EQ(jsonl.ignored.at("no loss or lr in the record").first_line, 4);
  // A W&B export with two runs: the lr of the run whose loss was chosen.
  sm::ParseOptions o;
  o.col_loss = "run-b - train/loss";
  Read wandb = read_file(dir.file("wandb_export.csv", "\"Step\",\"run-a - train/loss\",\"run-a - train/lr\",\"run-b - train/loss\","
                                                      "\"run-b - train/lr\"\n\"10\",\"4.1\",\"1e-4\",\"4.0\",\"2e-4\"\n"),
                         o);
  EXPECT_EQ(wandb.format, sm::LogFormat::kWandb);
  ASSERT_EQ(wandb.records.size(), 1u);
  EXPECT_DOUBLE_EQ(*wandb.records[0].train_loss, 4.0);
  EXPECT_DOUBLE_EQ(*wandb.records[0].lr, 2e-4);
  // TensorBoard tags: Hugging Face's "train/learning_rate", Lightning's "lr-AdamW".
  std::string ev = st::record(st::file_version_event(1.7e9)) +
                   st::record(st::event(1.7e9, 10, {st::simple_value("train/loss", 4.f), st::simple_value("train/learning_rate", 5e-5f)})) +
                   st::record(st::event(1.7e9, 10, {st::simple_value("lr-AdamW", 1e-3f), st::simple_value("train/epoch", 0.1f)}));
  Read tb = read_file(dir.file("events.out.tfevents.1.host", ev));
  ASSERT_EQ(tb.records.size(), 3u);
  EXPECT_FLOAT_EQ(static_cast<float>(*tb.records[1].lr), 5e-5f);
  EXPECT_FLOAT_EQ(static_cast<float>(*tb.records[2].lr), 1e-3f);
  EXPECT_EQ(count_of(tb, "a scalar of another tag (not a loss or lr)"), 1);
  EXPECT_EQ(count_of(tb, "an event without scalars (file version, graph, …)"), 1);
  for (const char* a : {"lr", "learning_rate", "train/lr", "train/learning_rate", "optim/lr", "lr-*"})
    EXPECT_NE(std::find(sm::lr_aliases().begin(), sm::lr_aliases().end(), a), sm::lr_aliases().end()) << a;
}

// --col-loss with --metric auto: the column's name says train or eval; --metric forces.
TEST(Formats, ColLossIsClassifiedByItsName) {
  for (const char* eval : {"val_loss", "eval/loss", "valid_nll", "validation-ce", "test_loss", "valLoss", "loss/heldout",
                           "eval_wikitext_loss", "run-7 - val/ppl"})
    EXPECT_TRUE(sm::looks_like_eval_name(eval)) << eval;
  for (const char* train : {"train_loss", "loss", "ce", "interval_loss", "my_train_ce", "contest_score", "test-run - train/loss",
                            "latest_loss"})
    EXPECT_FALSE(sm::looks_like_eval_name(train)) << train;
  TempDir dir;
  std::string path = dir.file("run.csv", "step,my_train_ce,heldout_ce\n10,4.2,4.3\n20,4.1,4.2\n");
  sm::ParseOptions o;
  o.col_loss = "my_train_ce";
  Read a = read_file(path, o);
  ASSERT_EQ(a.records.size(), 2u);
  EXPECT_DOUBLE_EQ(*a.records[1].train_loss, 4.1);  // was put in the eval series before
  EXPECT_FALSE(a.records[1].eval_loss.has_value());
  o.col_loss = "heldout_ce";
  Read b = read_file(path, o);
  EXPECT_DOUBLE_EQ(*b.records[1].eval_loss, 4.2);
  o.metric = sm::Metric::kTrain;  // forced
  Read c = read_file(path, o);
  EXPECT_DOUBLE_EQ(*c.records[1].train_loss, 4.2);
  o = {};
  o.col_loss = "train/perplexity";
  Read j = read_file(dir.file("r.jsonl", "{\"step\": 1, \"train/perplexity\": 40.1}\n"), o);
  EXPECT_TRUE(j.records[0].train_loss.has_value());
}

TEST(Formats, DetectionIsNotFooledByAFirstLine) {
  EXPECT_EQ(sm::detect_format("import os\nimport sys\n", "x.txt", false), sm::LogFormat::kLog);
  EXPECT_EQ(sm::detect_format("from torch import nn, optim\n", "x.txt", false), sm::LogFormat::kLog);
  EXPECT_EQ(sm::detect_format("{\n  \"best_metric\": null,\n", "x.json", false), sm::LogFormat::kTrainerState);
  EXPECT_EQ(sm::detect_format("{\"log_history\": [], \"max_steps\": 5}\n", "x", false), sm::LogFormat::kTrainerState);
  EXPECT_EQ(sm::detect_format("{\"step\": 1, \"loss\": 2}\n", "x", false), sm::LogFormat::kJsonl);
  EXPECT_EQ(sm::detect_format("{\"step\": 1, \"loss\": NaN}\n", "x", false), sm::LogFormat::kJsonl);  // its parser says what is wrong
  EXPECT_EQ(sm::detect_format("{\"step\": 1}\n", "run/trainer_state.json", false), sm::LogFormat::kTrainerState);
  // A tab in a text line is not a TSV header; a header with known names is.
  EXPECT_EQ(sm::detect_format("Epoch 1\tbatch 10\n", "x", false), sm::LogFormat::kLog);
  EXPECT_EQ(sm::detect_format("iteration\tval_loss\n", "x", false), sm::LogFormat::kTsv);
  EXPECT_EQ(sm::detect_format("epoch,lr-AdamW,step,train_loss_step\n", "x", false), sm::LogFormat::kCsv);
  // A header of unknown names becomes a table when --col-loss names one of them.
  sm::ParseOptions o;
  o.col_loss = "ce";
  EXPECT_EQ(sm::detect_format("it,ce\n", "x", false), sm::LogFormat::kLog);
  EXPECT_EQ(sm::detect_format("it,ce\n", "x", false, &o), sm::LogFormat::kCsv);
}

// Ignoring is cheap: a parser that uses every line allocates no entry.
TEST(Formats, NothingIgnoredMeansNoEntries) {
  TempDir dir;
  Read r = read_file(dir.file("run.csv", "step,loss\n1,4\n2,3.9\n"));
  EXPECT_TRUE(r.ignored.empty());
  Read l = read_file(dir.file("t.log", "iter 0: loss 4.2\niter 1: loss 4.1\n"));
  EXPECT_TRUE(l.ignored.empty());
  Read c = read_file(dir.file("cut.log", "iter 0: loss 4.2\niter 1: loss 4."));
  EXPECT_EQ(count_of(c, "the last line, cut (no newline)"), 1);
  EXPECT_EQ(c.ignored.at("the last line, cut (no newline)").first_line, 2);
}
