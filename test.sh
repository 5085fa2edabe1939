#!/usr/bin/env bash
# Runs every test. Installs what the tests need (Debian packages, npm packages) and generates the reference
# data (ONNX node suite, PyTorch-exported models, ONNX Runtime outputs) first, each only when missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

conformance/prepare.sh

results="$root/artifacts/test-results"
rm -rf "$results"
set +e
dotnet test tests/Tessera.Tests -c Release --nologo -tl:off --logger "trx;LogFileName=tests.trx" --results-directory "$results"
unit_status=$?
set -e

# The CLI end to end: the ONNX Runtime reference cases through `tessera onnx-test`.
set +e
./tessera onnx-test "${TESSERA_CACHE:-$root/.cache}/ort-cases" --atol 1e-4 --rtol 1e-3 | tee "$results/ort-cases.txt"
cli_status=${PIPESTATUS[0]}
set -e
bench/run.sh --smoke # both runtimes on one small model per kind, tiny counts, report to a temp folder: keeps bench/ working
smoke_out="$(mktemp -d)"
bench/distributed.sh --seconds 0.3 --cluster-seconds 0.3 --out "$smoke_out" >/dev/null 2>"$smoke_out/log" || { cat "$smoke_out/log"; exit 1; } # cluster and serving benches, tiny windows
rm -rf "$smoke_out"

counter() { grep -o "$1=\"[0-9]*\"" "$results/tests.trx" | head -n 1 | grep -o '[0-9]*' || echo 0; }
passed=$(( $(counter passed) ))
failed=$(( $(counter failed) ))
read -r ort_passed ort_failed < <(sed -n 's/^onnx-test: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$results/ort-cases.txt")
echo "tests: $((passed + ${ort_passed:-0})) passed, $((failed + ${ort_failed:-0})) failed"
[[ $unit_status -eq 0 && $cli_status -eq 0 ]]
