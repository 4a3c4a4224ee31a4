#!/usr/bin/env bash
# Distributed testing on one or more nodes with torchrun.
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR
# (127.0.0.1); TORCHRUN (torchrun, else `$PYTHON -m torch.distributed.run`),
# PYTHON (python).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py args...]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
source "$(dirname "$0")/launch.sh"
launch_torchrun "$GPUS" test.py "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
