#!/usr/bin/env bash
# Training on a Slurm cluster with srun (one task per GPU).
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args...]
# Environment: GPUS (8, tasks in all), GPUS_PER_NODE (8), CPUS_PER_TASK (5),
# SRUN_ARGS (extra srun options), PYTHON (python).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
WORK_DIR_ARGS=()
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then  # WORK_DIR given (not an option)
    WORK_DIR_ARGS=(--work-dir "$1")
    shift
fi
source "$(dirname "$0")/launch.sh"
launch_srun "$PARTITION" "$JOB_NAME" train.py "$CONFIG" \
    "${WORK_DIR_ARGS[@]}" --launcher slurm "$@"
