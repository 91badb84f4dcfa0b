#!/usr/bin/env bash
# Runs VMPilot's own test cases for the drop-in module (vmpilot_store.py) against a real server:
#   test.sh ADDRESS [PYTEST ARGS...]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
"$HERE/gen.sh" >/dev/null
export VMPILOT_CONVERSATION_STORE="${1:?usage: test.sh ADDRESS [PYTEST ARGS...]}"; shift
export PYTHONPATH="$HERE/gen:$HERE${PYTHONPATH:+:$PYTHONPATH}"
cd "$HERE"
exec "$ROOT/.tools/venv/bin/python" -m pytest -p no:cacheprovider -v test_vmpilot_store.py "$@"
