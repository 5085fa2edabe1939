#!/usr/bin/env bash
# Runs ONNX Runtime and Tessera side by side on the benchmark models and writes docs/benchmarks.md (+ .svg).
#   bench/run.sh                  full run (~10 minutes): every row at 1 and 2 threads, 3 alternating rounds
#   bench/run.sh --smoke          seconds: one small model per kind, both runtimes, report to a temp folder
#   bench/run.sh --only resnet    only matching rows; --threads 1, --rounds N, --out DIR also work
#   bench/run.sh --no-avx512      also runs Tessera with AVX-512 switched off (its AVX2 path) in every round
# Installs/generates the reference data first (conformance/prepare.sh; quick when it exists).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
conformance/prepare.sh >/dev/null
# Build the CLI now, so no build happens inside a timed row.
./tessera --help >/dev/null
exec /usr/bin/python3 bench/bench.py "$@"
