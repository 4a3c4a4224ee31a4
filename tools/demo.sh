#!/usr/bin/env bash
# The README demo: set up .venv (once), then train a tiny UniFormer video
# model on the synthetic motion-direction data set (generated into
# data/demo_video on first use) and report the validation accuracy.
# Extra arguments go to tools/train.py, e.g. --cfg-options randomness.seed=1
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
# One compute thread by default; the data loader worker uses the other core.
# OpenMP threads that compete with other processes for the cores slow this
# run down several times (measured on a busy 2-core machine: 11 min with 2
# threads, 3 min with 1).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
work_dir=work_dirs/demo_video
"$PY" tools/train.py configs/demo/uniformer_demo_video.py \
    --work-dir "$work_dir" "$@"
log=$(ls -t "$work_dir"/*/*.log 2>/dev/null | head -n 1 || true)
echo "[demo] checkpoints: $work_dir/epoch_*.pth, $work_dir/best_acc_top1_*.pth"
echo "[demo] log:         $log"
if [ -n "$log" ]; then
    echo "[demo] last validation $(grep -o 'acc/top1: [0-9.]*' "$log" | tail -n 1)"
fi
