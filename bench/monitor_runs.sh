#!/usr/bin/env bash
# Trains the project's own family of small runs that docs/MONITOR.md measures the monitor on:
# sizes × seeds × {cosine, wsd}, 50 evaluations each, two runs at a time on one thread each.
# Resumable: a finished run (result.json present) is skipped, a killed one resumes from its
# checkpoint. Usage: bench/monitor_runs.sh OUT_DIR [SEEDS] [SCALINGLAB]
set -euo pipefail
out=${1:?usage: bench/monitor_runs.sh OUT_DIR [SEEDS] [SCALINGLAB]}
seeds=${2:-9}
bin=${3:-build/scalinglab}
mkdir -p "$out"
jobs=()
for sched in cosine wsd; do
  for d in 32 48 64; do
    for seed in $(seq 1 "$seeds"); do
      jobs+=("$sched $d $seed")
    done
  done
done
run_one() {
  local sched=$1 d=$2 seed=$3
  local dir="$out/$sched-d$d-s$seed"
  [[ -f "$dir/result.json" ]] && return 0
  # ~20 tokens per parameter (2 layers: params ≈ 24·d² + 256·d + ...), 64 tokens of context.
  local tokens=$(( (24 * d * d + 2 * 256 * d) * 20 ))
  "$bin" train --out "$dir" --d-model "$d" --layers 2 --heads $(( d / 16 )) --ctx 64 --rope \
    --batch-tokens 1024 --tokens "$tokens" --lr 3e-3 --schedule "$sched" --warmup 0.05 \
    --evals 50 --eval-windows 64 --seed "$seed" --threads 1 --quiet
}
export -f run_one
export out bin
printf '%s\n' "${jobs[@]}" | xargs -P 2 -L 1 bash -c 'run_one $0 $1 $2'
echo "$(ls -d "$out"/*/ | wc -l) runs in $out"
