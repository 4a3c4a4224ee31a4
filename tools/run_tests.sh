#!/usr/bin/env bash
# Set up the environment if needed, then run the whole test suite.
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -k compat -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
exec "$PY" -m pytest tests -q -ra "$@"
