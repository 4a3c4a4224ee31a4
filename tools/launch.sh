#!/usr/bin/env bash
# The launch step shared by dist_train.sh / dist_test.sh (torchrun) and
# slurm_train.sh / slurm_test.sh (srun). Sourced by them, not run:
#   launch_torchrun NPROC SCRIPT ARGS...   one or more nodes with torchrun
#   launch_srun PARTITION JOB_NAME SCRIPT ARGS...   one task per GPU with srun
# SCRIPT is a file of this folder (train.py, test.py); the repository root is
# put on PYTHONPATH so that a checkout that is not pip-installed runs too.
# Environment: see the header of each launcher.

_LAUNCH_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

launch_torchrun() {
    local nproc=$1 script=$2
    shift 2
    local -a run
    if [ -n "${TORCHRUN:-}" ]; then
        read -r -a run <<< "$TORCHRUN"
    elif [ -z "${PYTHON:-}" ] && command -v torchrun > /dev/null; then
        run=(torchrun)
    else
        run=("${PYTHON:-python}" -m torch.distributed.run)
    fi
    PYTHONPATH="$_LAUNCH_TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
    exec "${run[@]}" \
        --nnodes="${NNODES:-1}" \
        --node_rank="${NODE_RANK:-0}" \
        --master_addr="${MASTER_ADDR:-127.0.0.1}" \
        --nproc_per_node="$nproc" \
        --master_port="${PORT:-29500}" \
        "$_LAUNCH_TOOLS/$script" "$@"
}

launch_srun() {
    local partition=$1 job_name=$2 script=$3
    shift 3
    local gpus_per_node=${GPUS_PER_NODE:-8}
    local -a srun_extra
    read -r -a srun_extra <<< "${SRUN_ARGS:-}"
    set -x
    PYTHONPATH="$_LAUNCH_TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
    exec srun -p "$partition" \
        --job-name="$job_name" \
        --gres=gpu:"$gpus_per_node" \
        --ntasks="${GPUS:-8}" \
        --ntasks-per-node="$gpus_per_node" \
        --cpus-per-task="${CPUS_PER_TASK:-5}" \
        --kill-on-bad-exit=1 \
        "${srun_extra[@]}" \
        "${PYTHON:-python}" -u "$_LAUNCH_TOOLS/$script" "$@"
}
