#!/usr/bin/env bash
# Writes docs/conformance.md: prepares the reference data (conformance/prepare.sh), runs the ONNX backend node
# suite and the ONNX Runtime cases through `./tessera onnx-test --report`, and formats the results.
# Usage: conformance/report.sh   (TESSERA_CACHE may point at another cache)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${TESSERA_CACHE:-$root/.cache}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$root/conformance/prepare.sh"

# onnx-test exits 1 when a case fails; that is a result to report, but a run that did not finish is not.
run() {
  local name="$1"
  shift
  echo "report: ./tessera onnx-test $* (${name})"
  "$root/tessera" onnx-test --report "$work/$name.json" "$@" >"$work/$name.txt" || true
  if ! tail -n 1 "$work/$name.txt" | grep -q '^onnx-test: [0-9]* passed, [0-9]* failed, [0-9]* skipped$'; then
    tail -n 20 "$work/$name.txt" >&2
    echo "report: the $name run did not finish" >&2
    exit 1
  fi
  echo "report:   $(tail -n 1 "$work/$name.txt")"
}

run node "$cache/onnx-node-suite/node"
run ort --atol 1e-4 --rtol 1e-3 "$cache/ort-cases"

mkdir -p "$root/docs"
/usr/bin/python3 "$root/conformance/write-report.py" "conformance/report.sh" \
  "$work/node.json" "$work/node.txt" "$work/ort.json" "$work/ort.txt" >"$work/conformance.md"
mv "$work/conformance.md" "$root/docs/conformance.md"
echo "report: wrote docs/conformance.md"
