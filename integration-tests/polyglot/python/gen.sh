#!/usr/bin/env bash
# Generates the Python stubs from proto/ into ./gen (gitignored) with grpcio-tools.
# google/rpc/error_details_pb2 comes from the googleapis-common-protos package, so only the
# contract itself is generated. Run scripts/install-tools first.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
rm -rf "$HERE/gen"
mkdir -p "$HERE/gen"
"$ROOT/.tools/venv/bin/python" -m grpc_tools.protoc \
  -I "$ROOT/proto" -I "$ROOT/third_party/googleapis" \
  --python_out="$HERE/gen" --pyi_out="$HERE/gen" --grpc_python_out="$HERE/gen" \
  vmpilot/conversation/v1/conversation_service.proto 2> >(grep -v 'is unused' >&2)
echo "gen.sh: generated $(cd "$HERE" && find gen -name '*.py' | sort | tr '\n' ' ')"
