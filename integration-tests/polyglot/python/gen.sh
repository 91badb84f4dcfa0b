#!/usr/bin/env bash
# Generates the Python stubs from proto/ into ./gen (gitignored) with grpcio-tools.
# google/rpc/error_details_pb2 comes from the googleapis-common-protos package, so only the
# contract itself is generated. Skipped when gen/ is already up to date with the .proto files.
# Run scripts/install-tools first.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PY="$ROOT/.tools/venv/bin/python"
stamp="$(cat "$ROOT/proto/vmpilot/conversation/v1/"*.proto "$0" | sha256sum | cut -d' ' -f1) $("$PY" -m grpc_tools.protoc --version)"
if [[ "$(cat "$HERE/gen/.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "gen.sh: Python stubs up to date"
  exit 0
fi
tmp="$(mktemp -d "$HERE/.gen.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
"$PY" -m grpc_tools.protoc \
  -I "$ROOT/proto" -I "$ROOT/third_party/googleapis" \
  --python_out="$tmp" --pyi_out="$tmp" --grpc_python_out="$tmp" \
  vmpilot/conversation/v1/conversation_service.proto 2> >(grep -v 'is unused' >&2)
echo "$stamp" >"$tmp/.stamp"
rm -rf "$HERE/gen" && mv "$tmp" "$HERE/gen"
echo "gen.sh: generated $(cd "$HERE" && find gen -name '*.py' | sort | tr '\n' ' ')"
