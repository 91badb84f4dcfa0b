#!/usr/bin/env bash
# Generates the stubs, builds the Go client and runs it:
#   run.sh ADDRESS                               save, append, get, list, conflict, clear
#   run.sh read ADDRESS THREAD_ID EXPECTED_FILE  byte-for-byte check of a stored conversation
#   run.sh retry ADDRESS METRICS_URL             a busy server's refusal waited out, a limit's not retried
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/gen.sh" >/dev/null
(cd "$HERE" && go build -o gen/bin/client .)
exec "$HERE/gen/bin/client" "$@"
