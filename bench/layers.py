#!/usr/bin/python3
"""Per-layer time of ONNX Runtime and Tessera on one model, grouped by layer shape, as a markdown table.

    bench/layers.py --model .cache/models/resnet18.onnx --shape image=1x3x224x224 [--threads 1] [--runs 30] [--tessera DLL]

Each side's time of a node is its minimum over the runs (the least disturbed by other load on the cores): ONNX Runtime
from its own profiler (bench/ort-bench.mjs --profile, one process), Tessera from `tessera bench --profile` with one
timed run per process (its profile sums runs) after 10 warm-up runs (so the JIT has tiered up what it will). Conv and pool nodes are keyed by operator, input, weight and output
shapes (from ONNX shape inference on the given input shape); layers sharing a key are summed. Fusions differ: ONNX
Runtime adds a residual Add into the Conv before it, Tessera into the one after it (a ResNet downsample), so a block's
rows are best read together. Other nodes are summed into one "other" row.
"""
import argparse
import collections
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("TESSERA_CACHE", os.path.join(ROOT, ".cache"))
KEYED = ("Conv", "MaxPool", "AveragePool")


def shapes_by_node(model_path, name, dims):
    """Node name -> (op, key) for keyed operators, from shape inference with the input fixed to dims."""
    model = onnx.load(model_path)
    for value in model.graph.input:
        if value.name == name:
            for d, extent in zip(value.type.tensor_type.shape.dim, dims):
                d.ClearField("dim_param")
                d.dim_value = extent
    model = onnx.shape_inference.infer_shapes(model)
    known = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
             for v in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output)}
    known.update({t.name: list(t.dims) for t in model.graph.initializer})
    keys = {}
    for node in model.graph.node:
        if node.op_type in KEYED:
            parts = [known.get(i) for i in node.input[:2]] + [known.get(node.output[0])]
            keys[node.name] = (node.op_type, tuple(tuple(p) if p else () for p in parts))
    return keys


def ort_key(event):
    args = event["args"]
    shapes = [tuple(next(iter(s.values()))) for s in args.get("input_type_shape", [])[:2]]
    shapes += [tuple(next(iter(s.values()))) for s in args.get("output_type_shape", [])[:1]]
    return (args.get("op_name"), tuple(shapes))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--shape", required=True, help="NAME=D1xD2x... (float input)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tessera", help="a built tessera.dll to run (default: ./tessera, building it when stale)")
    a = parser.parse_args()
    name, dims = a.shape.split("=")
    dims = [int(d) for d in dims.split("x")]
    keys = shapes_by_node(a.model, name, dims)
    work = tempfile.mkdtemp(prefix="tessera-layers-")
    npy = os.path.join(work, "input.npy")
    np.save(npy, np.random.default_rng(1).uniform(-1, 1, dims).astype(np.float32))

    prefix = os.path.join(work, "ort")
    subprocess.run(["node", os.path.join(ROOT, "bench", "ort-bench.mjs"), "--npm", os.path.join(CACHE, "npm"), "--model", a.model,
                    "--input", f"{name}={npy}", "--threads", str(a.threads), "--warmup", "2", "--iterations", str(a.runs),
                    "--profile", prefix], check=True, capture_output=True)
    events = json.load(open(glob.glob(prefix + "*.json")[0]))
    ort_runs = collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            ort_runs[(e["name"], ort_key(e))].append(e["dur"] / 1000)

    tessera = {}
    for _ in range(a.runs):
        cli = ["dotnet", a.tessera] if a.tessera else [os.path.join(ROOT, "tessera")]
        out = subprocess.run(cli + ["bench", "--model", a.model, "--input", f"{name}={npy}", "--threads",
                              str(a.threads), "--warmup", "10", "--iterations", "1", "--profile", "--top", "100000", "--json"],
                             check=True, capture_output=True, text=True).stdout
        for node in json.loads(out)["profile"]["slowest_nodes"]:
            tessera[node["name"]] = min(tessera.get(node["name"], float("inf")), node["ms_per_inference"])

    rows = collections.OrderedDict()
    for (node, key), times in ort_runs.items():
        row = rows.setdefault(key if key[0] in KEYED else ("other",), [0, 0.0, 0, 0.0])
        row[0] += 1
        row[1] += min(times)
    for node, ms in tessera.items():
        key = keys.get(node, ("other",))
        row = rows.setdefault(key, [0, 0.0, 0, 0.0])
        row[2] += 1
        row[3] += ms

    print(f"| layer | ORT nodes | Tessera nodes | ORT ms | Tessera ms | ORT / Tessera |")
    print("|---|---:|---:|---:|---:|---:|")
    total_ort = total_tessera = 0.0
    for key, (n_ort, ms_ort, n_tes, ms_tes) in rows.items():
        label = "other" if key == ("other",) else f"{key[0]} " + " · ".join("x".join(map(str, s)) for s in key[1])
        ratio = f"{ms_ort / ms_tes:.2f}" if ms_tes > 0 else "—"
        print(f"| {label} | {n_ort} | {n_tes} | {ms_ort:.3f} | {ms_tes:.3f} | {ratio} |")
        total_ort += ms_ort
        total_tessera += ms_tes
    print(f"| **sum of minimums** | | | {total_ort:.3f} | {total_tessera:.3f} | **{total_ort / total_tessera:.2f}** |")


if __name__ == "__main__":
    sys.exit(main())
