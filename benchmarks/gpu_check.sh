#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py): ganviz's training measured on a lent GPU machine within 8 minutes.
#   bash benchmarks/gpu_check.sh --out "$OUT/gpu-check.md"      # on the GPU machine (docs/speed.md: GPU check)
#   bash benchmarks/gpu_check.sh --device cpu --quick            # toy sizes on a CPU, seconds
# PYTHON picks the interpreter (default python3). `timeout` is a last guard: the check budgets its own parts
# (--budget, default 440 s) and stops at it; this kills everything 30 s past the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=440
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        --budget) budget="${args[i + 1]:-440}" ;;
        --budget=*) budget="${args[i]#--budget=}" ;;
    esac
done
export PYTHONUNBUFFERED=1
guard=()
command -v timeout >/dev/null && guard=(timeout --kill-after=10 "$(( ${budget%.*} + 30 ))")
exec "${guard[@]}" "${PYTHON:-python3}" benchmarks/gpu_check.py "$@"
