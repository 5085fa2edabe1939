#!/usr/bin/env bash
# Fuzzes one parser of untrusted bytes (docs/fuzzing.md).
#   fuzz/run.sh TARGET [--runs N] [--seconds S] [--timeout S]   coverage-guided: libFuzzer + SharpFuzz-instrumented Tessera assemblies
#   fuzz/run.sh TARGET --mutate [--runs N] [--seed S]   the in-process mutational driver the CI tests use, no instrumentation
#   fuzz/run.sh --list
# TARGET: rest, grpc, http2, frames, handshake, messages, onnx, npy, tensorproto, plan, parquet, sharedmemory. The corpus grows in
# artifacts/fuzz/corpus/TARGET (seeded from real inputs on first use); findings land in artifacts/fuzz/findings/.
# Installs what it needs on first use: clang-14 and libfuzzer-14-dev (apt), the SharpFuzz.CommandLine tool (NuGet).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out="$root/artifacts/fuzz"

if [[ ${1:-} == --list ]]; then
  dotnet run --project fuzz/Tessera.Fuzz -c Release -- list
  exit 0
fi
[[ $# -ge 1 ]] || { echo "usage: fuzz/run.sh TARGET [--runs N] [--seconds S] [--timeout S] [--mutate [--seed S]] | --list" >&2; exit 2; }
target="$1"
shift
runs=1000000 seconds=0 timeout=1200 mutate=0 seed=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --mutate) mutate=1; shift ;;
    *) echo "fuzz/run.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

mkdir -p "$out/findings"
if ((mutate)); then
  dotnet build fuzz/Tessera.Fuzz -c Release --nologo -v q -clp:ErrorsOnly
  exec dotnet "fuzz/Tessera.Fuzz/bin/Release/net10.0/Tessera.Fuzz.dll" mutate "$target" --runs "$runs" --seed "$seed" --findings "$out/findings"
fi

if ! command -v clang-14 >/dev/null || [[ ! -f /usr/lib/llvm-14/lib/libFuzzer.a ]]; then
  echo "installing clang-14 and libfuzzer-14-dev"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libfuzzer-14-dev >/dev/null
fi
if [[ ! -x "$out/tools/sharpfuzz" ]]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$out/tools" >/dev/null
fi
driver="$out/tessera-libfuzzer"
if [[ ! -x $driver || fuzz/libfuzzer-dotnet/driver.c -nt $driver ]]; then
  clang-14 -O2 -o "$driver" fuzz/libfuzzer-dotnet/driver.c /usr/lib/llvm-14/lib/libFuzzer.a -lstdc++ -lpthread -lm
fi

# A fresh publish each time; the seeds are written before Tessera's own assemblies are instrumented (SharpFuzz
# rewrites them in place, and instrumented code only runs under the driver, which gives it the coverage map).
rm -rf "$out/bin"
dotnet publish fuzz/Tessera.Fuzz -c Release -o "$out/bin" --nologo -v q -clp:ErrorsOnly >/dev/null
corpus="$out/corpus/$target"
if [[ ! -d $corpus ]] || [[ -z $(ls -A "$corpus") ]]; then
  dotnet "$out/bin/Tessera.Fuzz.dll" seeds "$target" "$corpus"
fi
for dll in "$out"/bin/Tessera.*.dll; do
  [[ $(basename "$dll") == Tessera.Fuzz.dll ]] && continue
  "$out/tools/sharpfuzz" "$dll" >/dev/null
done

# The timeout is wall time per input: long, because a run at low priority may be held stopped for minutes by other
# work on the machine (a pause must not read as a hang); a real hang still ends the run.
flags=(-runs="$runs" -timeout="$timeout" -max_len=65536 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$out/findings/$target-")
((seconds > 0)) && flags+=(-max_total_time="$seconds")
echo "fuzzing $target: $runs inputs at most${seconds:+, $seconds s at most}; corpus $corpus"
exec "$driver" "${flags[@]}" "$corpus" -- dotnet "$out/bin/Tessera.Fuzz.dll" libfuzzer "$target"
