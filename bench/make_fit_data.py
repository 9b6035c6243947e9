#!/usr/bin/python3
"""Writes the two real-shaped datasets of the approach-3 speed bench (deterministic, seed fixed).

bench/data/chinchilla_fig4_like.csv  240 runs shaped like Epoch's replication of Chinchilla Fig. 4
    (Besiroglu et al. 2024: 245 digitised points, 240 after dropping the 5 worst): 9 IsoFLOP-ish
    budgets 6e18..3e21 with ~22 model sizes each, plus off-budget runs; truth = Epoch's fit
    (A=482.01 B=2085.43 E=1.8172 alpha=0.3478 beta=0.3658); log-normal noise sigma 1.5%;
    4 outliers (+8..12%).
bench/data/training_curves_3500.csv  3,500 points digitised from training curves: 50 runs
    (N log-spaced 4e7..4e9) x 70 checkpoints each (D log-spaced up to each run's final tokens,
    20 N x 0.5..4); iid noise 0.8% plus a per-run offset of 0.5% (curves are smooth, runs differ).

    /usr/bin/python3 bench/make_fit_data.py
"""
import os
import numpy as np

E, A, B, alpha, beta = 1.8172, 482.01, 2085.43, 0.3478, 0.3658
law = lambda N, D: E + A / N**alpha + B / D**beta
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
os.makedirs(here, exist_ok=True)

rng = np.random.default_rng(20240414)
rows = []
for C in [6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21]:
    for tpp in np.geomspace(0.8, 400, 22):  # tokens per parameter along the IsoFLOP curve
        N = np.sqrt(C / (6 * tpp))
        rows.append((N, C / (6 * N), C))
while len(rows) < 240:
    N, D = 10 ** rng.uniform(7.6, 10.2), 10 ** rng.uniform(9, 11.7)
    rows.append((N, D, 6 * N * D))
rows = rows[:240]
noise = rng.normal(0, 0.015, len(rows))
noise[rng.choice(len(rows), 4, replace=False)] = np.log(rng.uniform(1.08, 1.12, 4))
with open(os.path.join(here, "chinchilla_fig4_like.csv"), "w") as f:
    f.write(f"# Chinchilla Fig. 4-shaped runs (bench/make_fit_data.py): E={E} A={A} B={B} alpha={alpha} "
            f"beta={beta}, log-normal noise 1.5%, 4 outliers\nN,D,C,loss\n")
    for (N, D, C), z in zip(rows, noise):
        f.write(f"{N:.6g},{D:.6g},{C:.6g},{law(N, D) * np.exp(z):.7g}\n")

rng = np.random.default_rng(3500)
with open(os.path.join(here, "training_curves_3500.csv"), "w") as f:
    f.write(f"# training-curve-shaped points (bench/make_fit_data.py): 50 runs x 70 checkpoints, E={E} A={A} "
            f"B={B} alpha={alpha} beta={beta}, noise 0.8% + 0.5% per run\nN,D,C,loss\n")
    for N in np.geomspace(4e7, 4e9, 50):
        final = 20 * N * 10 ** rng.uniform(np.log10(0.5), np.log10(4))
        offset = rng.normal(0, 0.005)
        for D in np.geomspace(final / 50, final, 70):
            f.write(f"{N:.6g},{D:.6g},{6 * N * D:.6g},{law(N, D) * np.exp(offset + rng.normal(0, 0.008)):.7g}\n")
