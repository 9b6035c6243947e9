#!/usr/bin/python3
"""Side-by-side: scalinglab's Chinchilla fit vs SciPy L-BFGS-B on the same data, objective and grid.

Both minimise the SUM over runs of Huber_delta(LSE(a - alpha ln N, b - beta ln D, e) - ln L) with
delta = 1e-3 from the 4,500-point grid of Hoffmann et al. 2022 (App. D.2), with analytic gradients
(the Besiroglu et al. 2024 replication's procedure). SciPy runs single-threaded, as in the notebooks
people use; scalinglab is timed with 1 thread and with all cores.

    /usr/bin/python3 bench/fit_vs_scipy.py [--binary build/scalinglab] [--stride K]

--stride K runs SciPy on every K-th start only and scales its time to the whole grid (the SciPy
loop is the slow side); the best objective found by each is printed so they can be compared.
"""
import argparse, json, subprocess, time
import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default="build/scalinglab")
ap.add_argument("--data", default="data/examples/chinchilla_synthetic.csv")
ap.add_argument("--stride", type=int, default=1)
args = ap.parse_args()

rows = [l for l in open(args.data) if l.strip() and not l.startswith("#")][1:]
arr = np.array([[float(x) for x in l.split(",")] for l in rows])
lnN, lnD, lnL = np.log(arr[:, 0]), np.log(arr[:, 1]), np.log(arr[:, 3])
delta = 1e-3

def objective(p):
    a, b, e, alpha, beta = p
    z = np.stack([a - alpha * lnN, b - beta * lnD, np.full_like(lnN, e)])
    lse = logsumexp(z, axis=0)
    w = np.exp(z - lse)
    r = lse - lnL
    hub = np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))
    dh = np.clip(r, -delta, delta)
    grad = np.array([np.sum(dh * w[0]), np.sum(dh * w[1]), np.sum(dh * w[2]),
                     np.sum(dh * -w[0] * lnN), np.sum(dh * -w[1] * lnD)])
    return hub.sum(), grad

grid = [(a, b, e, al, be) for a in range(0, 30, 5) for b in range(0, 30, 5)
        for e in np.arange(-1, 1.5, 0.5) for al in np.arange(0, 2.5, 0.5) for be in np.arange(0, 2.5, 0.5)]
sub = grid[:: args.stride]
t0 = time.perf_counter()
best = None
for s in sub:
    r = minimize(objective, np.array(s, dtype=float), jac=True, method="L-BFGS-B")
    if best is None or r.fun < best.fun:
        best = r
scipy_s = (time.perf_counter() - t0) * len(grid) / len(sub)

def ours(threads):
    out = subprocess.run([args.binary, "bench", "fit", "--data", args.data, "--bootstrap", "0", "--threads",
                          str(threads), "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)

o1, o2 = ours(1), ours(0)
a, b, e, al, be = best.x
print(f"data: {args.data} ({len(lnL)} runs), grid of {len(grid)} starts (SciPy ran {len(sub)}, time scaled)")
print(f"SciPy L-BFGS-B, 1 thread : {scipy_s:8.2f} s   best objective {best.fun:.9g}  alpha {al:.4f} beta {be:.4f}")
print(f"scalinglab, 1 thread     : {o1['grid_fit_s']:8.2f} s   best objective {o1['objective']:.9g}  "
      f"alpha {o1['param_values'][3]:.4f} beta {o1['param_values'][4]:.4f}")
print(f"scalinglab, all cores    : {o2['grid_fit_s']:8.2f} s")
print(f"speed-up: {scipy_s / o1['grid_fit_s']:.1f}x (1 thread), {scipy_s / o2['grid_fit_s']:.1f}x (all cores); "
      f"objective ratio scipy/ours {best.fun / o1['objective']:.6f}")
