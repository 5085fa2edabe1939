#!/usr/bin/env bash
# Measures the cluster (transport, data parallel and pipelines over local worker processes) and the KServe v2 server
# (dynamic batching, gateway overhead, gRPC against REST), and the error and bytes of --wire-dtype, and writes
# docs/benchmarks.d/20-cluster.md, 25-wire.md, 30-serving.md and 35-grpc.md; bench/run.sh then includes them in
# docs/benchmarks.md. About 10 minutes. Options: --only cluster|wire|serving|grpc, --seconds S, --out DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
conformance/prepare.sh >/dev/null
./tessera --help >/dev/null
exec /usr/bin/python3 bench/distributed.py "$@"
