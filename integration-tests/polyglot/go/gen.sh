#!/usr/bin/env bash
# Generates the Go stubs from proto/ into ./gen (gitignored) with protoc-gen-go and
# protoc-gen-go-grpc. protoc is the one shipped in grpcio-tools (.tools/venv). Skipped when
# gen/ is already up to date with the .proto files. Run scripts/install-tools first.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
TOOLS="$ROOT/.tools"
stamp="$(cat "$ROOT/proto/vmpilot/conversation/v1/"*.proto "$0" | sha256sum | cut -d' ' -f1) $("$TOOLS/bin/protoc-gen-go" --version) $("$TOOLS/bin/protoc-gen-go-grpc" --version)"
if [[ "$(cat "$HERE/gen/go/.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "gen.sh: Go stubs up to date"
  exit 0
fi
tmp="$(mktemp -d "$HERE/.gen.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# --go_opt=module=... strips the module path from go_package, so the files land in
# gen/go/vmpilot/conversation/v1 (package github.com/vmpilot/conversation-store/gen/go/...).
"$TOOLS/venv/bin/python" -m grpc_tools.protoc \
  -I "$ROOT/proto" -I "$ROOT/third_party/googleapis" \
  --plugin=protoc-gen-go="$TOOLS/bin/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$TOOLS/bin/protoc-gen-go-grpc" \
  --go_out="$tmp" --go_opt=module=github.com/vmpilot/conversation-store \
  --go-grpc_out="$tmp" --go-grpc_opt=module=github.com/vmpilot/conversation-store \
  vmpilot/conversation/v1/conversation_service.proto 2> >(grep -v "is unused" >&2)
echo "$stamp" >"$tmp/gen/go/.stamp"
rm -rf "$HERE/gen/go" && mkdir -p "$HERE/gen" && mv "$tmp/gen/go" "$HERE/gen/go"
echo "gen.sh: generated $(cd "$HERE" && find gen/go -name '*.go' | sort | tr '\n' ' ')"
