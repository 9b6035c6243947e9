#!/usr/bin/python3
"""PyTorch reference for scalinglab's C++ GPT (tests/model/test_torch_parity.cpp).

Written independently of the C++ code, in the style of nanoGPT's model.py: loads the exact
weights the C++ model exported, runs one batch, and writes the mean cross-entropy loss and the
gradient of every parameter, so the C++ test can compare them.

    /usr/bin/python3 torch_reference.py WEIGHTS BATCH OUT [--dtype float64|float32]

WEIGHTS and BATCH (tensors "tokens", "targets", int32 [B,T]) and OUT are in the tensor-file
format of src/scalinglab/model/tensor_file.h. OUT holds one f32 tensor per parameter, named as in
WEIGHTS, and meta {"loss": float}. Exit code 77 means PyTorch is not importable (the test skips).
"""
import argparse
import json
import math
import struct
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"torch_reference.py: {e}", file=sys.stderr)
    sys.exit(77)

MAGIC = b"SLTENS01"
DTYPES = {"f32": np.float32, "i32": np.int32}


def read_tensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: bad magic")
    (hlen,) = struct.unpack("<Q", data[8:16])
    header = json.loads(data[16 : 16 + hlen])
    base = 16 + hlen
    out = {}
    for t in header["tensors"]:
        dt = np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")
        n = int(np.prod(t["shape"], dtype=np.int64))
        arr = np.frombuffer(data, dtype=dt, count=n, offset=base + t["offset"]).reshape(t["shape"])
        out[t["name"]] = arr.copy()
    return header.get("meta", {}), out


def write_tensors(path, meta, tensors):
    entries, blobs, offset = [], [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype="<f4")
        raw = arr.tobytes()
        entries.append({"name": name, "dtype": "f32", "shape": list(arr.shape), "offset": offset})
        pad = (8 - len(raw) % 8) % 8
        blobs.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    header = json.dumps({"meta": meta, "tensors": entries}).encode()
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<Q", len(header)) + header + b"".join(blobs))


def rope(x, base=10000.0):
    """RoFormer rotation on interleaved pairs: x [B, H, T, hs]; pair (2i, 2i+1) at position t
    is rotated by t * base**(-2i/hs)."""
    _, _, T, hs = x.shape
    i = torch.arange(hs // 2, dtype=torch.float64)
    theta = base ** (-2.0 * i / hs)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * theta[None, :]
    cos, sin = torch.cos(ang).to(x.dtype), torch.sin(ang).to(x.dtype)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x0 * cos - x1 * sin
    out[..., 1::2] = x0 * sin + x1 * cos
    return out


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.n_head, self.rope = cfg["n_head"], cfg["rope"]
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        heads = lambda t: t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        if self.rope:
            q, k = rope(q), rope(k)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = nn.Linear(d, 4 * d)
        self.c_proj = nn.Linear(4 * d, d)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg["vocab"], cfg["d_model"])
        if not cfg["rope"]:
            self.wpe = nn.Embedding(cfg["ctx"], cfg["d_model"])
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg["n_layer"]))
        self.ln_f = nn.LayerNorm(cfg["d_model"], eps=1e-5)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx)
        if not self.cfg["rope"]:
            x = x + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()  # tied output head
        return F.cross_entropy(logits.view(B * T, -1), targets.view(-1).long())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("batch")
    ap.add_argument("out")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    torch.set_num_threads(1)  # the reference's speed does not matter; its reproducibility does

    meta, weights = read_tensors(args.weights)
    cfg = meta["config"]
    model = GPT(cfg).to(dtype)
    state = {name: torch.from_numpy(arr).to(dtype) for name, arr in weights.items()}
    model.load_state_dict(state, strict=True)  # every name and shape must match the C++ layout
    _, batch = read_tensors(args.batch)
    idx = torch.from_numpy(batch["tokens"]).long()
    targets = torch.from_numpy(batch["targets"]).long()

    loss = model(idx, targets)
    loss.backward()
    grads = {name: p.grad.detach().to(torch.float32).numpy() for name, p in model.named_parameters()}
    write_tensors(args.out, {"loss": loss.item(), "dtype": args.dtype}, grads)


if __name__ == "__main__":
    main()
