#!/usr/bin/env bash
# Create (once) the project's virtual environment and install everything into it.
# Usage: source tools/setup_env.sh   -> sets $PY to the environment's python
#   VENV=/path  use another location (default: .venv in the repository root)
#   TORCH_SPEC  what to install when no torch is present (default: torch==2.13.0,
#               the CPU wheel; users with a CUDA torch already installed keep it)
set -euo pipefail
_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_venv=${VENV:-$_root/.venv}
_stamp=$_venv/.uniformer_mm_stamp
_want=$(cat "$_root"/requirements/*.txt "$_root/setup.cfg" | sha1sum | cut -c1-12)
if [ ! -f "$_stamp" ] || [ "$(cat "$_stamp")" != "$_want" ]; then
    echo "[setup_env] creating/updating $_venv (one-time, ~1 min)" >&2
    python3 -m venv "$_venv"
    "$_venv/bin/python" -m pip install -q --upgrade pip >&2
    if ! "$_venv/bin/python" -c "import torch" 2>/dev/null; then
        "$_venv/bin/python" -m pip install -q "${TORCH_SPEC:-torch==2.13.0}" >&2
    fi
    "$_venv/bin/python" -m pip install -q -r "$_root/requirements/runtime.txt" \
        -r "$_root/requirements/tests.txt" -r "$_root/requirements/webui.txt" >&2
    # dense prediction (mmdet / mmseg / mmpose): see requirements/dense.txt
    "$_venv/bin/python" -m pip install -q -r "$_root/requirements/dense.txt" >&2
    "$_venv/bin/python" -m pip install -q --no-deps \
        -r "$_root/requirements/dense_frameworks.txt" >&2
    "$_venv/bin/python" -m pip install -q --no-build-isolation \
        --no-binary xtcocotools 'xtcocotools>=1.12' >&2
    "$_venv/bin/python" -m pip install -q --no-deps -e "$_root" >&2
    echo "$_want" > "$_stamp"
fi
PY=$_venv/bin/python
export PY
