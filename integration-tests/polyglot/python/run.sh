#!/usr/bin/env bash
# Generates the stubs, then runs the pinned Python (.tools/venv) with them on the path:
#   run.sh client.py ADDRESS                              save, append, get, list, conflict, clear
#   run.sh write_fixture.py ADDRESS THREAD_ID [OUT_FILE]  writes the cross-language fixture
# A script name is looked up in this directory when it is not a path to an existing file.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
"$HERE/gen.sh" >/dev/null
export PYTHONPATH="$HERE/gen:$HERE${PYTHONPATH:+:$PYTHONPATH}"
script="${1:?usage: run.sh SCRIPT.py ARGS...}"; shift
[[ -e "$script" ]] || script="$HERE/$script"
exec "$ROOT/.tools/venv/bin/python" "$script" "$@"
