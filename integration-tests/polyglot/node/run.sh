#!/usr/bin/env bash
# Runs the Node client (dependencies from `npm ci`, done by scripts/install-tools):
#   run.sh ADDRESS                    save, append, get, list, conflict, clear
#   run.sh retry ADDRESS METRICS_URL  a busy server's refusal waited out, a limit's not retried
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ -d "$HERE/node_modules" ]] || { echo "run.sh: no node_modules; run scripts/install-tools" >&2; exit 1; }
exec node "$HERE/client.js" "$@"
