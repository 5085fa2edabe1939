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

# The kernel, engine and model-parity tests again on each lower SIMD tier this CPU can run: AVX2 (AVX-512 off) and
# Vector128 (AVX2 and FMA off). .NET 10 reads DOTNET_EnableAVX512 (DOTNET_EnableAVX512F is for older runtimes); TierTests
# fails a rerun whose process is not on the tier it asked for. docs/architecture.md, "SIMD tiers", says what runs.
tier_filter="FullyQualifiedName~Tessera.Tests.Kernels.|FullyQualifiedName~Tessera.Tests.Engine.|FullyQualifiedName~Tessera.Tests.Conformance.|FullyQualifiedName~Tessera.Tests.Tiers.TierTests"
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
tiers=()
[[ $cpu_flags == *" avx512f "* ]] && tiers+=(avx2)
[[ $cpu_flags == *" avx2 "* ]] && tiers+=(vector128)
for tier in "${tiers[@]}"; do
  lower=(DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0)
  [[ $tier == vector128 ]] && lower+=(DOTNET_EnableAVX2=0)
  echo "tests on the $tier tier (${lower[*]})"
  set +e
  env "${lower[@]}" TESSERA_EXPECT_TIER="$tier" dotnet test tests/Tessera.Tests -c Release --no-build --nologo -tl:off \
    --filter "$tier_filter" --logger "trx;LogFileName=tier-$tier.trx" --results-directory "$results"
  tier_status=$?
  set -e
  ((tier_status == 0)) || unit_status=$tier_status
done

# The CLI end to end: the ONNX Runtime reference cases through `tessera onnx-test`.
set +e
./tessera onnx-test "${TESSERA_CACHE:-$root/.cache}/ort-cases" --atol 1e-4 --rtol 1e-3 | tee "$results/ort-cases.txt"
cli_status=${PIPESTATUS[0]}
set -e
bench/run.sh --smoke # both runtimes on one small model per kind, tiny counts, report to a temp folder: keeps bench/ working
smoke_out="$(mktemp -d)"
bench/distributed.sh --seconds 0.3 --cluster-seconds 0.3 --out "$smoke_out" >/dev/null 2>"$smoke_out/log" || { cat "$smoke_out/log"; exit 1; } # cluster and serving benches, tiny windows
rm -rf "$smoke_out"

# Sums a counter over the main run and the tier runs (each .trx's first occurrence is its summary).
counter() {
  local total=0 file n
  for file in "$results"/*.trx; do
    n=$(grep -o "$1=\"[0-9]*\"" "$file" | head -n 1 | grep -o '[0-9]*' || echo 0)
    total=$((total + n))
  done
  echo "$total"
}
passed=$(( $(counter passed) ))
failed=$(( $(counter failed) ))
read -r ort_passed ort_failed < <(sed -n 's/^onnx-test: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$results/ort-cases.txt")
echo "tests: $((passed + ${ort_passed:-0})) passed, $((failed + ${ort_failed:-0})) failed"
[[ $unit_status -eq 0 && $cli_status -eq 0 ]]
