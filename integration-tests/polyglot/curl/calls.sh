#!/usr/bin/env bash
# Real curl calls against a running conversation server's HTTP/JSON port (--http-port):
#   integration-tests/polyglot/curl/calls.sh URL        e.g. http://127.0.0.1:8080/
# The commands are the ones README.md shows (checked at the end), run exactly as written; every call's
# output is checked, and the script exits non-zero on the first mismatch.
# No pipefail: what decides is the checked output (`expect` is the last command of each pipeline).
set -eu

[[ $# -eq 1 ]] || { echo "usage: $0 URL" >&2; exit 2; }
URL="${1%/}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }
cd "$ROOT"
T="curl-demo-$$-$RANDOM"   # a thread id of our own
STEPS=0

# step TITLE: announces the next call.
step() { STEPS=$((STEPS + 1)); echo; echo "== $STEPS. $1"; }

# ... | expect PATTERN...: prints the call's output and fails unless it contains every PATTERN (fixed strings).
expect() {
  local out
  out="$(cat)"
  printf '%s\n' "$out" | sed 's/^/   /'
  for pattern in "$@"; do
    if ! grep -qF -- "$pattern" <<<"$out"; then
      echo "FAIL: step $STEPS: output lacks: $pattern" >&2
      exit 1
    fi
  done
}

echo "$(curl --version | head -1) against $URL, thread $T"

step "Save: create a conversation (each message is JSON text)"
curl -s --json @- "$URL/v1/conversations/$T:save" <<EOF | expect '"created": true' '"messageCount": "2"' '"version": "'
{
  "messages": [
    {"json": "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"}"},
    {"json": "{\"role\":\"user\",\"content\":\"What is in /src/app?\"}"}
  ],
  "cacheInfo": {"input_tokens": 10},
  "metadata": {"project_root": "/src/app", "run": "$T"}
}
EOF

step "Append: add a message (its id makes a retry harmless)"
curl -s --json '{"messages": [{"id": "m3", "json": "{\"role\":\"assistant\",\"content\":\"main.py and README.md\"}"}]}' "$URL/v1/conversations/$T:append" | expect '"appendedCount": 1' '"messageCount": "3"'

step "Get: the newest two messages, verbatim"
curl -s "$URL/v1/conversations/$T?maxMessages=2" | expect '"json": "{\"role\":\"user\",\"content\":\"What is in /src/app?\"}"' '"id": "m3"' '"input_tokens": "10"' '"messageCount": "3"'

step "UpdateCache: replace the cache counters"
curl -s --json '{"cacheInfo": {"cache_read_input_tokens": 90}}' "$URL/v1/conversations/$T:updateCache" | expect '"version": "'

step "List: conversations whose metadata matches, most recent first"
curl -s -g "$URL/v1/conversations?pageSize=10&metadataFilter[run]=$T" | expect "\"threadId\": \"$T\"" '"cache_read_input_tokens": "90"' '"nextPageToken": ""'

step "error: a malformed JSON message gives 400 INVALID_ARGUMENT with ErrorInfo and BadRequest"
curl -s -w 'HTTP %{http_code}\n' --json '{"messages": [{"json": "{not json"}]}' "$URL/v1/conversations/$T:save" | expect 'HTTP 400' '"code": 3' '"@type": "type.googleapis.com/google.rpc.ErrorInfo"' '"reason": "INVALID_ARGUMENT"' '"@type": "type.googleapis.com/google.rpc.BadRequest"' '"field": "messages[0].json"'

step "error: a stale expectedVersion gives 409 ABORTED, reason VERSION_MISMATCH"
curl -s -w 'HTTP %{http_code}\n' -X DELETE "$URL/v1/conversations/$T?expectedVersion=1" | expect 'HTTP 409' '"code": 10' '"reason": "VERSION_MISMATCH"' '"current_version": "'

step "Clear: delete the conversation"
curl -s -X DELETE "$URL/v1/conversations/$T" | expect '"deleted": true'

step "error: an unknown thread gives 404 NOT_FOUND"
curl -s -w 'HTTP %{http_code}\n' "$URL/v1/conversations/$T" | expect 'HTTP 404' '"code": 5' '"reason": "CONVERSATION_NOT_FOUND"'

step "the viewer's page"
curl -s -o /dev/null -w '%{http_code} %{content_type}\n' "$URL/" | expect '200 text/html; charset=utf-8'

# ------------------------------------------------ README.md shows these very commands
echo
missing=0
shown=0
while IFS= read -r line; do
  shown=$((shown + 1))
  if ! grep -qxF -- "$line" <(sed -E 's/ \| expect .*$//' "$HERE/calls.sh"); then
    echo "FAIL: README.md shows a curl command calls.sh does not run: $line" >&2
    missing=1
  fi
done < <(sed -n '/curl-examples:start/,/curl-examples:end/p' "$ROOT/README.md" | grep -E '^curl ')
[[ $shown -gt 0 ]] || { echo "FAIL: no curl examples found between the README.md markers" >&2; exit 1; }
[[ $missing -eq 0 ]] || exit 1
echo "README.md: every curl command shown is one this script runs"

echo
echo "curl: all $STEPS steps passed"
