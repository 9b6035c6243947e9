#!/usr/bin/python3
"""Reference for test_adamw: runs torch.optim.AdamW on the problem described by a JSON file.

usage: adamw_torch_reference.py IN.json OUT.json
IN: {"tensors": [{"name", "size", "is_matrix"}], "params": [...], "grads": [[...] per step],
     "lrs": [...], "beta1", "beta2", "eps", "weight_decay", "max_norm"}
OUT: {"params": [...], "m": [...], "v": [...], "norms": [...]} after all steps.
Exit code 77 when torch cannot be imported, so the caller can skip rather than fail.
"""
import json
import sys

try:
    import torch
except Exception:  # noqa: BLE001 - any import failure means "no reference available"
    sys.exit(77)


def main() -> None:
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    torch.set_num_threads(1)
    flat = torch.tensor(cfg["params"], dtype=torch.float32)
    tensors, off = [], 0
    for t in cfg["tensors"]:
        tensors.append(torch.nn.Parameter(flat[off:off + t["size"]].clone()))
        off += t["size"]
    decay = [p for p, t in zip(tensors, cfg["tensors"]) if t["is_matrix"]]
    no_decay = [p for p, t in zip(tensors, cfg["tensors"]) if not t["is_matrix"]]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg["lrs"][0], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"], foreach=False)
    norms = []
    for grads, lr in zip(cfg["grads"], cfg["lrs"]):
        g = torch.tensor(grads, dtype=torch.float32)
        off = 0
        for p, t in zip(tensors, cfg["tensors"]):
            p.grad = g[off:off + t["size"]].clone()
            off += t["size"]
        norms.append(float(torch.nn.utils.clip_grad_norm_(tensors, cfg["max_norm"])))
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
    out = {"params": torch.cat([p.detach() for p in tensors]).tolist(),
           "m": torch.cat([opt.state[p]["exp_avg"] for p in tensors]).tolist(),
           "v": torch.cat([opt.state[p]["exp_avg_sq"] for p in tensors]).tolist(),
           "norms": norms}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
