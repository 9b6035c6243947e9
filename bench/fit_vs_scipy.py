#!/usr/bin/python3
"""Side-by-side: scalinglab's Chinchilla approach-3 fit vs SciPy L-BFGS-B on the same data, objective
and grid.

Both minimise the SUM over runs of Huber_delta(LSE(a - alpha ln N, b - beta ln D, e) - ln L) with
delta = 1e-3 from the 4,500-point grid of Hoffmann et al. 2022 (App. D.2), with analytic gradients
(the Besiroglu et al. 2024 replication's procedure). SciPy runs single-threaded, as in the notebooks
people use, on the FULL grid; scalinglab is timed with 1 thread and with all cores (best of
--repeat runs each, since the machine may be shared; the load average is printed before and after).

    /usr/bin/python3 bench/fit_vs_scipy.py [--binary build/scalinglab] [--stride K]

Three figures (issue 14): the 240-point grid fit (ratio printed), a 3,500-point fit of training-curve
points (SciPy on every --large-stride-th start, its time scaled to the whole grid and marked so), and
1,000 bootstrap refits. Data: bench/data/*.csv, written by bench/make_fit_data.py.
--stride K runs SciPy on every K-th start of the 240-point grid only (time scaled, marked).
"""
import argparse, json, os, subprocess, time
import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default="build/scalinglab")
ap.add_argument("--data", default="bench/data/chinchilla_fig4_like.csv")
ap.add_argument("--large", default="bench/data/training_curves_3500.csv")
ap.add_argument("--stride", type=int, default=1)
ap.add_argument("--large-stride", type=int, default=30)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--bootstrap", type=int, default=1000)
args = ap.parse_args()
delta = 1e-3
grid = [(a, b, e, al, be) for a in range(0, 30, 5) for b in range(0, 30, 5)
        for e in np.arange(-1, 1.5, 0.5) for al in np.arange(0, 2.5, 0.5) for be in np.arange(0, 2.5, 0.5)]


def load(path):
    rows = [l for l in open(path) if l.strip() and not l.startswith("#")][1:]
    arr = np.array([[float(x) for x in l.split(",")] for l in rows])
    return np.log(arr[:, 0]), np.log(arr[:, 1]), np.log(arr[:, 3])


def scipy_grid(path, stride):
    lnN, lnD, lnL = load(path)

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

    sub = grid[::stride]
    t0, c0 = time.perf_counter(), time.process_time()
    best = None
    for s in sub:
        r = minimize(objective, np.array(s, dtype=float), jac=True, method="L-BFGS-B")
        if best is None or r.fun < best.fun:
            best = r
    scale = len(grid) / len(sub)
    return ((time.perf_counter() - t0) * scale, (time.process_time() - c0) * scale), best, len(sub), len(lnL)


def ours(path, threads, bootstrap=0):
    out = subprocess.run([args.binary, "bench", "fit", "--data", path, "--bootstrap", str(bootstrap), "--threads",
                          str(threads), "--repeat", str(args.repeat), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def scaled(k):
    return "" if k == len(grid) else f"  [SciPy ran {k} of {len(grid)} starts; time SCALED to the full grid]"


print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (cores: {os.cpu_count()})")
print("wall s / CPU s (all threads); best of --repeat for scalinglab; ratios use wall time, CPU-time ratio in []")
o1, oa = ours(args.data, 1), ours(args.data, 0)
(sp_s, sp_c), best, k, n = scipy_grid(args.data, args.stride)
print(f"\n1) {args.data}: {n} runs, grid of {len(grid)} starts{scaled(k)}")
print(f"   SciPy L-BFGS-B, 1 thread : {sp_s:8.3f} / {sp_c:8.3f} s   best objective {best.fun:.9g}  "
      f"alpha {best.x[3]:.5f} beta {best.x[4]:.5f}")
print(f"   scalinglab, 1 thread     : {o1['grid_fit_s']:8.3f} / {o1['grid_fit_cpu_s']:8.3f} s   best objective "
      f"{o1['objective']:.9g}  alpha {o1['param_values'][3]:.5f} beta {o1['param_values'][4]:.5f}")
print(f"   scalinglab, {oa['threads']} threads    : {oa['grid_fit_s']:8.3f} / {oa['grid_fit_cpu_s']:8.3f} s   "
      f"({oa['status_detail']}; {oa['continued_starts']} starts continued after screening)")
print(f"   SPEED-UP vs SciPy: {sp_s / o1['grid_fit_s']:.1f}x (1 thread) [{sp_c / o1['grid_fit_cpu_s']:.1f}x], "
      f"{sp_s / oa['grid_fit_s']:.1f}x ({oa['threads']} threads); objective ratio scipy/ours "
      f"{best.fun / o1['objective']:.9f}")

l1, la = ours(args.large, 1), ours(args.large, 0)
(lsp_s, lsp_c), lbest, lk, ln = scipy_grid(args.large, args.large_stride)
print(f"\n2) {args.large}: {ln} points, grid of {len(grid)} starts{scaled(lk)}")
print(f"   SciPy L-BFGS-B, 1 thread : {lsp_s:8.3f} / {lsp_c:8.3f} s   best objective {lbest.fun:.9g} "
      f"(of its {lk} starts)")
print(f"   scalinglab, 1 thread     : {l1['grid_fit_s']:8.3f} / {l1['grid_fit_cpu_s']:8.3f} s   best objective "
      f"{l1['objective']:.9g}")
print(f"   scalinglab, {la['threads']} threads    : {la['grid_fit_s']:8.3f} / {la['grid_fit_cpu_s']:8.3f} s   "
      f"speed-up vs SciPy {lsp_s / la['grid_fit_s']:.1f}x{' (SciPy scaled)' if lk != len(grid) else ''}")

b1, ba = ours(args.data, 1, args.bootstrap), ours(args.data, 0, args.bootstrap)
print(f"\n3) {args.bootstrap} bootstrap refits on {args.data}: {b1['bootstrap_s']:.3f} / {b1['bootstrap_cpu_s']:.3f} s "
      f"(1 thread), {ba['bootstrap_s']:.3f} / {ba['bootstrap_cpu_s']:.3f} s ({ba['threads']} threads)")
print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
