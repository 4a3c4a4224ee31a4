#!/usr/bin/env bash
# Create (once) the project's virtual environment and install everything into it.
# Usage: source tools/setup_env.sh   -> sets $PY to the environment's python
#   VENV=/path  use another location (default: .venv in the repository root)
#   TORCH_SPEC  what to install when no torch is present (default: torch==2.13.0,
#               the CPU wheel; users with a CUDA torch already installed keep it)
#   BASE_PYTHON the interpreter the environment is made from (default: python3);
#               CPython 3.10-3.14 (torch 2.13.0 has wheels for these only; CI
#               tests 3.11)
set -euo pipefail
_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_python=${BASE_PYTHON:-python3}
_pyver=$("$_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || _pyver=none
case "$_pyver" in
    3.1[0-4]) ;;
    *) if [ "$_pyver" = none ]; then _found="$_python does not run (no such Python?)"; else _found="$_python is Python $_pyver"; fi
       echo "[setup_env] $_found; uniformer-mm needs Python 3.10-3.14 (torch 2.13.0 has wheels for these only): install one (e.g. python3.11) and run again with BASE_PYTHON=python3.11" >&2
       return 1 2>/dev/null || exit 1 ;;
esac
if ! "$_python" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "[setup_env] $_python ($_pyver) cannot create virtual environments (no venv/ensurepip module): install it (Debian/Ubuntu: apt-get install python$_pyver-venv) and run again" >&2
    return 1 2>/dev/null || exit 1
fi
_venv=${VENV:-$_root/.venv}
_stamp=$_venv/.uniformer_mm_stamp
_want=$(cat "$_root"/requirements/*.txt "$_root/setup.cfg" | sha1sum | cut -c1-12)
if [ ! -f "$_stamp" ] || [ "$(cat "$_stamp")" != "$_want" ]; then
    echo "[setup_env] creating/updating $_venv (one-time, ~3 min)" >&2
    "$_python" -m venv "$_venv"
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
