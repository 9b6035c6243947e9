#!/usr/bin/python3
"""Side-by-side: training throughput of scalinglab's GPT engine vs the same GPT in PyTorch (CPU).

PyTorch side: a nanoGPT-style nn.Module (pre-LayerNorm, fused qkv, causal mask as a registered
buffer, GELU tanh, tied input/output embedding, learned positions), float32, torch.optim.AdamW
with weight decay on the matrices only (as train::AdamW), default foreach setting. A step is
zero_grad + forward + backward + optimizer step on a fresh random [B,T] batch. It is timed with
torch.set_num_threads(1) and (2) and the faster setting is reported (on a 2-core box, the second
thread can lose when the other core is busy).
scalinglab side: `scalinglab bench train ... --json` with the same config, all cores (OpenMP
threads calling single-threaded OpenBLAS), which also measures the sgemm peak in the same run.
OMP_WAIT_POLICY defaults to passive for both (see below).
Both report tokens/s from the MEDIAN step time of the timed steps (after warmup).

    /usr/bin/python3 bench/train_vs_torch.py [--binary build/scalinglab] [--steps 10] [--warmup 3]
        [--config V,T,d,L,H,B ...] [--markdown]

Without --config it runs the three configurations of issue 4. The environment's OPENBLAS_*
variables are passed through unchanged to both sides (torch links its own BLAS/MKL-DNN; scalinglab
uses the system OpenBLAS, where OPENBLAS_CORETYPE picks the sgemm kernel).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

# OpenMP threads that spin while waiting make both engines several times slower whenever another
# process holds a core (this box is shared; see kernels/cpu/README.md). Unless the caller chose
# otherwise, both sides get passive waiting: set before torch loads its OpenMP runtime, and
# inherited by the scalinglab subprocess.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import torch
import torch.nn as nn
import torch.nn.functional as F

ISSUE_CONFIGS = ["256,128,64,2,2,16", "256,128,128,4,4,16", "256,256,256,6,8,8"]
TARGETS = {"256,128,64,2,2,16": 3.0, "256,128,128,4,4,16": 3.0, "256,256,256,6,8,8": 2.0}


class Attention(nn.Module):
    def __init__(self, d, h, t):
        super().__init__()
        self.h = h
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.register_buffer("mask", torch.tril(torch.ones(t, t, dtype=torch.bool)))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (z.view(B, T, self.h, C // self.h).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = F.softmax(att.masked_fill(~self.mask[:T, :T], float("-inf")), dim=-1)
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self, d, h, t):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, h, t)
        self.c_fc, self.c_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, T, d, L, H):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, d), nn.Embedding(T, d)
        self.h = nn.ModuleList(Block(d, H, T) for _ in range(L))
        self.ln_f = nn.LayerNorm(d)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(B * T, -1), targets.view(-1))


def torch_tokens_per_s(V, T, d, L, H, B, threads, warmup, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GPT(V, T, d, L, H)
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    times = []
    for s in range(warmup + steps):
        idx = torch.randint(0, V, (B, T))
        tgt = torch.randint(0, V, (B, T))
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(idx, tgt)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if s >= warmup:
            times.append(dt)
    med = statistics.median(times)
    return B * T / med, med * 1e3


def ours(binary, V, T, d, L, H, B, warmup, steps):
    cmd = [binary, "bench", "train", "--vocab", V, "--ctx", T, "--d-model", d, "--layers", L, "--heads", H,
           "--batch", B, "--steps", steps, "--warmup", warmup, "--json"]
    out = subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/scalinglab")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--config", action="append", help="V,T,d,L,H,B (repeatable)")
    ap.add_argument("--markdown", action="store_true", help="also print a Markdown table row per config")
    args = ap.parse_args()
    configs = args.config or ISSUE_CONFIGS
    print(f"torch {torch.__version__}; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}; load {os.getloadavg()}", flush=True)
    rows = []
    for c in configs:
        V, T, d, L, H, B = (int(x) for x in c.split(","))
        tt = {n: torch_tokens_per_s(V, T, d, L, H, B, n, args.warmup, args.steps) for n in (1, 2)}
        best_n = max(tt, key=lambda n: tt[n][0])
        t_tps, t_ms = tt[best_n]
        o = ours(args.binary, V, T, d, L, H, B, args.warmup, args.steps)
        ratio = o["tokens_per_s"] / t_tps
        target = TARGETS.get(c)
        print(f"V={V} T={T} d={d} L={L} H={H} B={B}: torch {t_tps:9.0f} tok/s ({t_ms:.1f} ms/step, "
              f"{best_n} thr; 1 thr {tt[1][0]:.0f}, 2 thr {tt[2][0]:.0f})  scalinglab {o['tokens_per_s']:9.0f} tok/s "
              f"({o['median_ms']:.1f} ms/step, {o['threads']} thr)  ratio {ratio:.2f}x"
              + (f" (target {target:g}x)" if target else "")
              + f"  | {o['gflops']:.1f} GFLOP/s = {100 * o['peak_fraction']:.0f}% of sgemm peak "
              f"{o['sgemm_peak']['gflops']:.1f}", flush=True)
        rows.append((V, T, d, L, H, B, t_tps, best_n, o, ratio, target))
    print(f"load after: {os.getloadavg()}")
    if args.markdown:
        print("| V | T | d | L | H | B | torch tok/s (thr) | scalinglab tok/s | ratio (target) | model GFLOP/s | sgemm peak GFLOP/s | % peak |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for V, T, d, L, H, B, t_tps, best_n, o, ratio, target in rows:
            print(f"| {V} | {T} | {d} | {L} | {H} | {B} | {t_tps:.0f} ({best_n}) | {o['tokens_per_s']:.0f} | "
                  f"{ratio:.2f}x ({f'{target:g}x' if target else '-'}) | {o['gflops']:.1f} | {o['sgemm_peak']['gflops']:.1f} | "
                  f"{100 * o['peak_fraction']:.0f}% |")


if __name__ == "__main__":
    sys.exit(main())
