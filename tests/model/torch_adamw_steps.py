#!/usr/bin/python3
"""PyTorch side of tests/model/test_torch_adamw_steps.cpp: several AdamW steps of the reference
GPT (torch_reference.py, written independently of the C++ model) from the C++ model's exported
weights, on the same fixed batches, with torch.optim.AdamW itself as the optimizer.

    /usr/bin/python3 torch_adamw_steps.py WEIGHTS BATCHES OUT [--dtype float64|float32]

BATCHES holds i32 tensors "tokens" and "targets" of shape [steps, B, T] and meta {"lr", "beta1",
"beta2", "eps", "weight_decay", "decay": [names of the tensors that get weight decay]}: the C++
side says which tensors train::AdamW decays (is_matrix) so both optimizers decay the same set.
OUT holds the parameters after the last step (f32, named as in WEIGHTS) and meta {"losses": [the
loss of each step, computed before its update]}. Exit code 77: PyTorch is not importable.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as ref  # exits 77 itself when torch/numpy are missing

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("batches")
    ap.add_argument("out")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    torch.set_num_threads(1)

    meta, weights = ref.read_tensors(args.weights)
    model = ref.GPT(meta["config"]).to(dtype)
    model.load_state_dict({n: torch.from_numpy(a).to(dtype) for n, a in weights.items()}, strict=True)
    bmeta, batches = ref.read_tensors(args.batches)
    decay = set(bmeta["decay"])
    named = dict(model.named_parameters())
    unknown = decay - named.keys()
    if unknown:
        raise SystemExit(f"decay names not in the model: {sorted(unknown)}")
    groups = [
        {"params": [p for n, p in named.items() if n in decay], "weight_decay": bmeta["weight_decay"]},
        {"params": [p for n, p in named.items() if n not in decay], "weight_decay": 0.0},
    ]
    # foreach=False: the per-parameter loop whose arithmetic order train::AdamW mirrors.
    opt = torch.optim.AdamW(groups, lr=bmeta["lr"], betas=(bmeta["beta1"], bmeta["beta2"]), eps=bmeta["eps"],
                            foreach=False)
    tokens = torch.from_numpy(batches["tokens"]).long()
    targets = torch.from_numpy(batches["targets"]).long()
    losses = []
    for s in range(tokens.shape[0]):
        opt.zero_grad(set_to_none=True)
        loss = model(tokens[s], targets[s])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    params = {n: p.detach().to(torch.float32).numpy() for n, p in model.named_parameters()}
    ref.write_tensors(args.out, {"losses": losses, "dtype": args.dtype}, params)


if __name__ == "__main__":
    main()
