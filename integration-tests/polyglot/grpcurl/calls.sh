#!/usr/bin/env bash
# Real grpcurl calls against a running conversation server (plaintext):
#   integration-tests/polyglot/grpcurl/calls.sh ADDRESS        e.g. localhost:50051
# First through server reflection, then again from the .proto files alone (-proto).
# Every call's output is checked; exits non-zero on the first mismatch.
# Each runs from the repository root, with the pinned grpcurl of scripts/install-tools first on
# the PATH. (The README's own grpcurl examples are run, in the README's order, by ReadmeGrpcurlIT.)
# No pipefail: calls that must fail exit non-zero, and what decides is the checked output
# (`expect` is the last command of each pipeline, so a failed check stops the script).
set -eu

[[ $# -eq 1 ]] || { echo "usage: $0 ADDRESS" >&2; exit 2; }
ADDR="$1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
export PATH="$ROOT/.tools/bin:$PATH"
command -v grpcurl >/dev/null || { echo "grpcurl not found; run scripts/install-tools" >&2; exit 1; }
cd "$ROOT"
T="grpcurl-demo-$$-$RANDOM"   # a thread id of our own
STEPS=0

# step TITLE: announces the next call.
step() { STEPS=$((STEPS + 1)); echo; echo "== $STEPS. $1"; }

# ... | expect PATTERN...: prints the call's output and fails unless it contains every PATTERN
# (fixed strings) and not "not recognized" (grpcurl's word for a detail type it cannot print).
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
  if grep -q "not recognized" <<<"$out"; then
    echo "FAIL: step $STEPS: grpcurl could not print an error detail" >&2
    exit 1
  fi
}

echo "grpcurl $(grpcurl -version 2>&1 | awk '{print $2}') against $ADDR, thread $T"

# ---------------------------------------------------------------- through server reflection
step "list the services"
grpcurl -plaintext "$ADDR" list | expect vmpilot.conversation.v1.ConversationService grpc.health.v1.Health

step "describe the service"
grpcurl -plaintext "$ADDR" describe vmpilot.conversation.v1.ConversationService | expect "rpc Save (" "rpc Get (" "rpc UpdateCache (" "rpc Clear (" "rpc Append (" "rpc List ("

step "health check"
grpcurl -plaintext "$ADDR" grpc.health.v1.Health/Check | expect '"status": "SERVING"'

step "Save: create a conversation (each message is JSON text)"
grpcurl -plaintext -d @ "$ADDR" vmpilot.conversation.v1.ConversationService/Save <<EOF | expect '"created": true' '"messageCount": "2"' '"version": "'
{
  "thread_id": "$T",
  "messages": [
    {"json": "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"}"},
    {"json": "{\"role\":\"user\",\"content\":\"What is in /src/app?\"}"}
  ],
  "cache_info": {"input_tokens": 10},
  "metadata": {"project_root": "/src/app", "run": "$T"}
}
EOF

step "Append: add a message (its id makes a retry harmless)"
grpcurl -plaintext -d @ "$ADDR" vmpilot.conversation.v1.ConversationService/Append <<EOF | expect '"appendedCount": 1' '"messageCount": "3"'
{
  "thread_id": "$T",
  "messages": [{"id": "m3", "json": "{\"role\":\"assistant\",\"content\":\"main.py and README.md\"}"}]
}
EOF

step "Get: the messages come back verbatim"
grpcurl -plaintext -d "{\"thread_id\": \"$T\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Get | expect '"json": "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"}"' '"id": "m3"' '"input_tokens": "10"' '"messageCount": "3"'

step "UpdateCache: replace the cache counters"
grpcurl -plaintext -d "{\"thread_id\": \"$T\", \"cache_info\": {\"cache_read_input_tokens\": 90}}" "$ADDR" vmpilot.conversation.v1.ConversationService/UpdateCache | expect '"version": "'

step "List: conversations whose metadata matches, most recent first"
grpcurl -plaintext -d "{\"metadata_filter\": {\"run\": \"$T\"}}" "$ADDR" vmpilot.conversation.v1.ConversationService/List | expect "\"threadId\": \"$T\"" '"cache_read_input_tokens": "90"' '"messageCount": "3"'

step "UpdateMetadata and Fork: metadata changed without the messages, then a branch at a position"
grpcurl -plaintext -d @ "$ADDR" vmpilot.conversation.v1.ConversationService/Append <<EOF | expect '"messageCount": "2"'
{"thread_id": "$T-life", "messages": [{"json": "{\"role\":\"user\",\"content\":\"hi\"}"}, {"json": "{\"role\":\"assistant\",\"content\":\"hello\"}"}]}
EOF
grpcurl -plaintext -d "{\"thread_id\": \"$T-life\", \"set\": {\"title\": \"greeting\", \"draft\": \"yes\"}}" "$ADDR" vmpilot.conversation.v1.ConversationService/UpdateMetadata | expect '"version": "'
grpcurl -plaintext -d "{\"thread_id\": \"$T-life\", \"remove\": [\"draft\"]}" "$ADDR" vmpilot.conversation.v1.ConversationService/UpdateMetadata | expect '"version": "'
grpcurl -plaintext -d "{\"thread_id\": \"$T-life\", \"new_thread_id\": \"$T-retry\", \"end_position\": 1}" "$ADDR" vmpilot.conversation.v1.ConversationService/Fork | expect '"messageCount": "1"' '"sourceVersion": "'
grpcurl -plaintext -d "{\"thread_id\": \"$T-retry\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Get | expect "\"forked_from\": \"$T-life\"" '"title": "greeting"' '"messageCount": "1"'
grpcurl -plaintext -d "{\"query\": \"hello\", \"metadata_filter\": {\"title\": \"greeting\"}}" "$ADDR" vmpilot.conversation.v1.ConversationService/Search | expect "\"threadId\": \"$T-life\"" '"position": "1"' '"snippet": "assistant hello"'
if grpcurl -plaintext -d "{\"thread_id\": \"$T-life\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Get | grep -qF '"draft"'; then
  echo "FAIL: step $STEPS: the removed metadata key is still there" >&2
  exit 1
fi

step "error: Fork into an existing thread gives ALREADY_EXISTS, beyond the history OUT_OF_RANGE"
grpcurl -plaintext -format-error -d "{\"thread_id\": \"$T-life\", \"new_thread_id\": \"$T-retry\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Fork 2>&1 | expect '"code": 6' '"reason": "CONVERSATION_EXISTS"'
grpcurl -plaintext -format-error -d "{\"thread_id\": \"$T-life\", \"new_thread_id\": \"$T-other\", \"end_position\": 5}" "$ADDR" vmpilot.conversation.v1.ConversationService/Fork 2>&1 | expect '"code": 11' '"reason": "POSITION_OUT_OF_RANGE"' '"message_count": "2"' '"field": "end_position"'
grpcurl -plaintext -d "{\"thread_id\": \"$T-retry\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Clear | expect '"deleted": true'
grpcurl -plaintext -d "{\"thread_id\": \"$T-life\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Clear | expect '"deleted": true'

step "error: Save with a malformed JSON message gives INVALID_ARGUMENT, ErrorInfo and BadRequest"
grpcurl -plaintext -format-error -d "{\"thread_id\": \"$T\", \"messages\": [{\"json\": \"{not json\"}]}" "$ADDR" vmpilot.conversation.v1.ConversationService/Save 2>&1 | expect '"code": 3' '"@type": "type.googleapis.com/google.rpc.ErrorInfo"' '"reason": "INVALID_ARGUMENT"' '"@type": "type.googleapis.com/google.rpc.BadRequest"' '"field": "messages[0].json"'

step "error: a stale expected_version gives ABORTED with reason VERSION_MISMATCH and the current version"
grpcurl -plaintext -format-error -d "{\"thread_id\": \"$T\", \"expected_version\": 0}" "$ADDR" vmpilot.conversation.v1.ConversationService/Clear 2>&1 | expect '"code": 10' '"@type": "type.googleapis.com/google.rpc.ErrorInfo"' '"reason": "VERSION_MISMATCH"' '"domain": "conversation.vmpilot.io"' '"current_version": "'

step "Clear: delete the conversation"
grpcurl -plaintext -d "{\"thread_id\": \"$T\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Clear | expect '"deleted": true'

step "error: Get of an unknown thread gives NOT_FOUND"
grpcurl -plaintext -format-error -d "{\"thread_id\": \"$T\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Get 2>&1 | expect '"code": 5' '"reason": "CONVERSATION_NOT_FOUND"'

# ------------------------------------------------ the same from the .proto files (no reflection)
# Run from the repository root: proto/ holds the contract, third_party/googleapis the error details.
# grpcurl prints the lowerCamelCase JSON names both ways: the server's reflection serves descriptors with
# json_name filled in (GrpcurlJsonNamesIT compares the two outputs).
T="$T-proto"

step "-proto: list the services"
grpcurl -import-path proto -import-path third_party/googleapis -proto vmpilot/conversation/v1/conversation_service.proto list | expect vmpilot.conversation.v1.ConversationService

step "-proto: describe the service"
grpcurl -import-path proto -import-path third_party/googleapis -proto vmpilot/conversation/v1/conversation_service.proto describe vmpilot.conversation.v1.ConversationService | expect "rpc Save (" "rpc Get (" "rpc UpdateCache (" "rpc Clear (" "rpc Append (" "rpc List ("

step "-proto: Save"
grpcurl -plaintext -import-path proto -import-path third_party/googleapis -proto vmpilot/conversation/v1/conversation_service.proto -d @ "$ADDR" vmpilot.conversation.v1.ConversationService/Save <<EOF | expect '"created": true' '"messageCount": "2"'
{
  "thread_id": "$T",
  "messages": [
    {"json": "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"}"},
    {"json": "{\"role\":\"user\",\"content\":\"What is in /src/app?\"}"}
  ],
  "cache_info": {"input_tokens": 10},
  "metadata": {"project_root": "/src/app", "run": "$T"}
}
EOF

step "-proto: Append"
grpcurl -plaintext -import-path proto -import-path third_party/googleapis -proto vmpilot/conversation/v1/conversation_service.proto -d @ "$ADDR" vmpilot.conversation.v1.ConversationService/Append <<EOF | expect '"appendedCount": 1' '"messageCount": "3"'
{
  "thread_id": "$T",
  "messages": [{"id": "m3", "json": "{\"role\":\"assistant\",\"content\":\"main.py and README.md\"}"}]
}
EOF

step "-proto: Get"
grpcurl -plaintext -import-path proto -import-path third_party/googleapis -proto vmpilot/conversation/v1/conversation_service.proto -d "{\"thread_id\": \"$T\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Get | expect '"json": "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"}"' '"id": "m3"' '"input_tokens": "10"'

step "-proto: UpdateCache"
grpcurl -plaintext -import-path proto -import-path third_party/googleapis -proto vmpilot/conversation/v1/conversation_service.proto -d "{\"thread_id\": \"$T\", \"cache_info\": {\"cache_read_input_tokens\": 90}}" "$ADDR" vmpilot.conversation.v1.ConversationService/UpdateCache | expect '"version": "'

step "-proto: List"
grpcurl -plaintext -import-path proto -import-path third_party/googleapis -proto vmpilot/conversation/v1/conversation_service.proto -d "{\"metadata_filter\": {\"run\": \"$T\"}}" "$ADDR" vmpilot.conversation.v1.ConversationService/List | expect "\"threadId\": \"$T\"" '"cache_read_input_tokens": "90"'

step "-proto: error details are printed from the .proto files too"
grpcurl -plaintext -import-path proto -import-path third_party/googleapis -proto vmpilot/conversation/v1/conversation_service.proto -format-error -d "{\"thread_id\": \"$T\", \"expected_version\": 0}" "$ADDR" vmpilot.conversation.v1.ConversationService/Clear 2>&1 | expect '"code": 10' '"@type": "type.googleapis.com/google.rpc.ErrorInfo"' '"reason": "VERSION_MISMATCH"'

step "-proto: Clear"
grpcurl -plaintext -import-path proto -import-path third_party/googleapis -proto vmpilot/conversation/v1/conversation_service.proto -d "{\"thread_id\": \"$T\"}" "$ADDR" vmpilot.conversation.v1.ConversationService/Clear | expect '"deleted": true'

echo
echo "grpcurl: all $STEPS steps passed"
