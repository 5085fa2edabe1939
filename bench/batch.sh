#!/usr/bin/env bash
# Measures `tessera batch` (sharded datasets on local workers against one process, the coordinator's CPU per row and
# peak memory) and writes docs/benchmarks.d/40-batch.md; bench/run.sh then includes it in docs/benchmarks.md.
# A few minutes. Options: --rounds R, --workers N, --memory-gib G (0 skips the memory row), --out DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
conformance/prepare.sh >/dev/null
./tessera --help >/dev/null
exec /usr/bin/python3 bench/batch.py "$@"
