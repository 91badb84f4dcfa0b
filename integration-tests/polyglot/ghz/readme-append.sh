#!/usr/bin/env bash
# Runs the ghz command README.md shows (between its ghz-example markers) against a running server:
#   integration-tests/polyglot/ghz/readme-append.sh ADDRESS [DURATION]     e.g. localhost:50051 2s
# The README's text is run as it stands, from the repository root, with only its address (localhost:50051) and
# its --duration 10s replaced (DURATION defaults to 2s). Exits with ghz's status; exits 1 before running anything
# when the README no longer shows the command in that form, so that the README cannot drift from what CI runs.
set -euo pipefail

[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 ADDRESS [DURATION]" >&2; exit 2; }
ADDR="$1"
DURATION="${2:-2s}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
[[ -x .tools/bin/ghz ]] || { echo "ghz not found in .tools/bin; run scripts/install-tools" >&2; exit 1; }

fail() { echo "FAIL: README.md: $*" >&2; exit 1; }
# The sh block between the markers, without its fences.
command="$(sed -n '/ghz-example:start/,/ghz-example:end/p' README.md | sed -n '/^```sh$/,/^```$/p' | sed '1d;$d')"
[[ -n "$command" ]] || fail "no sh block between the ghz-example markers"
[[ "$(grep -c '^\.tools/bin/ghz ' <<<"$command")" -eq 1 ]] || fail "the block is not one .tools/bin/ghz command"
grep -qF -- '--duration 10s ' <<<"$command" || fail "the ghz command has no '--duration 10s'"
[[ "$command" == *' localhost:50051' ]] || fail "the ghz command does not end with its address, localhost:50051"

command="${command/--duration 10s /--duration $DURATION }"
command="${command% localhost:50051} $ADDR"
echo "ghz $(.tools/bin/ghz --version 2>&1) against $ADDR for $DURATION (README.md's command)"
exec bash -c "$command"
