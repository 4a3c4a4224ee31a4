#!/usr/bin/env bash
# Distributed training on one or more nodes with torchrun.
#   bash tools/dist_train.sh CONFIG GPUS [train.py args...]
# GPUS: processes per node (on a CPU-only machine: CPU processes, gloo).
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR
# (127.0.0.1); TORCHRUN (torchrun, else `$PYTHON -m torch.distributed.run`),
# PYTHON (python).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [train.py args...]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
source "$(dirname "$0")/launch.sh"
launch_torchrun "$GPUS" train.py "$CONFIG" --launcher pytorch "$@"
