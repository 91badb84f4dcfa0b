#!/usr/bin/env bash
# Generates the Go stubs from proto/ into ./gen (gitignored) with protoc-gen-go and
# protoc-gen-go-grpc. protoc is the one shipped in grpcio-tools (.tools/venv).
# Run scripts/install-tools first.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
TOOLS="$ROOT/.tools"
rm -rf "$HERE/gen"
mkdir -p "$HERE/gen"
# --go_opt=module=... strips the module path from go_package, so the files land in
# ./gen/go/vmpilot/conversation/v1 (package path github.com/vmpilot/conversation-store/gen/go/...).
"$TOOLS/venv/bin/python" -m grpc_tools.protoc \
  -I "$ROOT/proto" -I "$ROOT/third_party/googleapis" \
  --plugin=protoc-gen-go="$TOOLS/bin/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$TOOLS/bin/protoc-gen-go-grpc" \
  --go_out="$HERE" --go_opt=module=github.com/vmpilot/conversation-store \
  --go-grpc_out="$HERE" --go-grpc_opt=module=github.com/vmpilot/conversation-store \
  vmpilot/conversation/v1/conversation_service.proto 2> >(grep -v "is unused" >&2)
echo "gen.sh: generated $(cd "$HERE" && find gen -name '*.go' | tr '\n' ' ')"
