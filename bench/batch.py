#!/usr/bin/env python3
"""Measures `tessera batch` (issue 15): throughput of a dataset sharded over N local workers against the machine's
bound (cores / CPU seconds per row of one process running the whole job), the coordinator's CPU per row, and the
coordinator's peak resident memory on a dataset of several GiB. Writes docs/benchmarks.d/40-batch.md, which
bench/report.py includes in docs/benchmarks.md; each number is printed next to the command that produced it.

Run it through bench/batch.sh (which prepares the reference data and builds the CLI first).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TESSERA_CACHE", ROOT / ".cache"))
MODELS = CACHE / "models"
DOCS = ROOT / "docs" / "benchmarks.d"
TESSERA = [str(ROOT / "tessera")]


def rel(path):
    return os.path.relpath(path, ROOT)


def batch(args):
    """Runs `tessera batch ARGS` into a fresh output folder and returns its manifest."""
    print("+ ./tessera batch " + " ".join(args), file=sys.stderr, flush=True)
    out = subprocess.run(TESSERA + ["batch"] + args, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"batch.py: tessera batch {' '.join(args)} failed:\n{out.stderr}{out.stdout}")
    return json.loads((Path(args[args.index("--out") + 1]) / "manifest.json").read_text())


def shown(args, work):
    """The command as a reader reruns it: paths under the scratch folder shown as DATA/OUT."""
    return "./tessera batch " + " ".join(a.replace(str(work), "$WORK") if str(work) in a else rel(a) if a.startswith(str(ROOT))
                                         else a.replace(str(CACHE), ".cache") for a in args)


def side_by_side(args, copies, work, slug, r):
    """Runs `copies` one-process jobs at once (each on its own core's worth, nothing distributed) and returns their
    combined rows/s: the most these cores give when every one of them runs the model, the machine's own floor."""
    procs, outs = [], []
    for i in range(copies):
        out = work / f"{slug}-side-{r}-{i}"
        outs.append(out)
        print("+ ./tessera batch " + " ".join(args + ["--out", str(out)]) + " &", file=sys.stderr, flush=True)
        procs.append(subprocess.Popen(TESSERA + ["batch"] + args + ["--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit(f"batch.py: a side-by-side tessera batch failed:\n{err}")
    manifests = [json.loads((out / "manifest.json").read_text()) for out in outs]
    return sum(m["records"] for m in manifests) / max(m["run_seconds"] for m in manifests)


def throughput_row(name, model, shape, records, workers, rounds, work, extra, target=0.95):
    slug = name.lower().replace(" ", "-")
    data = work / f"{slug}-data"
    data.mkdir()
    rng = np.random.default_rng(15)
    np.save(data / "input.npy" if "dense" in model.name else data / "image.npy", rng.standard_normal((records, *shape), dtype=np.float32))
    one_args = ["--model", str(model), "--data", str(data), "--threads", "1"] + extra
    many_args = one_args + ["--workers", str(workers)]
    best_one = best_many = None
    best_side = 0.0
    for r in range(rounds):
        for side in (["one", "many", "side"] if r % 2 == 0 else ["side", "many", "one"]):
            if side == "side":
                best_side = max(best_side, side_by_side(one_args, workers, work, slug, r))
                continue
            out = work / f"{slug}-{side}-{r}"
            manifest = batch((one_args if side == "one" else many_args) + ["--out", str(out)])
            rate = manifest["records"] / manifest["run_seconds"]
            if side == "one":
                best_one = max(best_one or (0, None), (rate, manifest), key=lambda x: x[0])
            else:
                best_many = max(best_many or (0, None), (rate, manifest), key=lambda x: x[0])
            if side == "many":
                reference = (work / f"{slug}-one-0").glob("*.npy")
                for f in reference:
                    if f.read_bytes() != (out / f.name).read_bytes():
                        sys.exit(f"batch.py: {out / f.name} differs from the one-process run")
    one_rate, one = best_one
    many_rate, many = best_many
    cpu_per_row = one["coordinator_cpu_seconds"] / one["records"]
    bound = os.cpu_count() / cpu_per_row
    ratio = many_rate / bound
    coordinator_us = 1e6 * many["coordinator_cpu_seconds"] / many["records"]
    workers_ms = 1e3 * many["workers_cpu_seconds"] / many["records"]
    return (f"| {name} | {records} | {one_rate:.1f} | {1e3 * cpu_per_row:.3f} | {bound:.1f} | {best_side:.1f} | {best_side / bound:.2f} | {workers} | {many_rate:.1f} | "
            f"**{ratio:.2f}** {('✅' if ratio >= target else '❌') if target else ''} | {f'≥ {target}' if target else '— (I/O-bound)'} | {many_rate / best_side:.2f} | {coordinator_us:.1f} | {workers_ms:.3f} | `{shown(many_args + ['--out', '$WORK/out'], work)}` |")


def reduce_max_model(path, width):
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node("ReduceMax", ["x"], ["y"], axes=[1], keepdims=1)], "max",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def memory_row(gib, work):
    width = 16384  # 64 KiB records
    records = gib * (1 << 30) // (width * 4)
    model = work / "max.onnx"
    reduce_max_model(str(model), width)
    data = work / "wide"
    data.mkdir()
    x = np.lib.format.open_memmap(data / "x.npy", mode="w+", dtype=np.float32, shape=(records, width))
    for first in range(0, records, 4096):
        x[first:first + 4096] = np.arange(first, min(first + 4096, records), dtype=np.float32)[:, None]
    x.flush()
    del x
    args = ["--model", str(model), "--data", str(data), "--workers", "2", "--out", str(work / "wide-out")]
    manifest = batch(args)
    mib = manifest["coordinator_peak_rss_bytes"] / (1 << 20)
    return (f"| {gib} GiB ({records} records of 64 KiB) | {mib:.0f} MiB {'✅' if mib < 500 else '❌'} | < 500 MiB | "
            f"{manifest['records'] / manifest['run_seconds']:.0f} records/s | `{shown(args, work)}` |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per row; each side's best is kept (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="local workers (default 2: this machine's cores)")
    parser.add_argument("--memory-gib", type=int, default=4, help="size of the memory row's dataset (0: skip)")
    parser.add_argument("--out", type=Path, default=DOCS, help="folder for the section (default docs/benchmarks.d)")
    args = parser.parse_args()
    started = datetime.now(timezone.utc)
    load = os.getloadavg()[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = ["## Batch: datasets sharded over local workers (issue 15)", "",
             f"Generated by `bench/batch.sh` on {started:%Y-%m-%d %H:%M} UTC, commit {commit}; {cpu}, {os.cpu_count()} cores; "
             f"load average (1 min) at the start {load:.2f}. The machine is shared and noisy: other processes take cores at "
             "random, so a row's ratio can land on either side of its target from one run to the next.", "",
             f"Each row runs the same job {args.rounds} time(s) in one process (`--threads 1`, no workers) and on {args.workers} local "
             "workers (1 thread each), alternating, and keeps each side's best; every workers' output is checked to be "
             "bit-identical to the one process's. rows/s = records / the run's seconds (`run_seconds` in manifest.json: from "
             "the first shard sent to the manifest written, so worker start-up is not counted; nor is the warm-up batch each placement runs before, in one process as on workers). The machine's bound is "
             "cores / CPU seconds per row of the one process (its `coordinator_cpu_seconds`, which is all of its work); "
             "'of bound' is the workers' rows/s over it. The coordinator's CPU per row is what sharding costs on top "
             "(reading, sending, receiving and writing the records; the workers' compute is theirs); the workers' CPU per row "
             "(`workers_cpu_seconds`, all worker processes together over the run) set against the one process's shows what "
             "running as a worker costs on top of the model (receiving and answering a batch). The Dense MLP row has no "
             "target: its compute per row (a few µs) is below what reading, sending and writing a record costs, so sharding "
             "it shows the coordinator's own cost per row rather than a speed-up.", "",
             f"'Side by side' runs {args.workers} one-process jobs at once in the same rounds (each the whole dataset, nothing "
             "distributed, nothing shared): their combined rows/s is what this machine gives when all its cores run the model "
             "at once (shared caches and memory bandwidth, or a VM's vCPUs on sibling hyper-threads), a floor below the "
             "bound that no distribution over these cores can beat. 'Of side by side' is the workers' rows/s over it: what "
             "sharding itself costs.", "",
             "| model | records | one process rows/s | one process CPU ms/row | bound rows/s | side by side rows/s | side by side / bound | workers | workers rows/s | of bound | target | of side by side | coordinator CPU µs/row | workers CPU ms/row | command ($WORK: a scratch folder with the dataset) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|"]
    with tempfile.TemporaryDirectory(prefix="tessera-bench-batch-") as tmp:
        work = Path(tmp)
        lines.append(throughput_row("ResNet-18", MODELS / "resnet18.onnx", (3, 224, 224), 960, args.workers, args.rounds, work, ["--batch-size", "4", "--shard-rows", "8"]))
        lines.append(throughput_row("Dense MLP", MODELS / "dense.onnx", (100,), 200000, args.workers, args.rounds, work, [], target=None))
        if args.memory_gib > 0:
            lines += ["", "Memory: the coordinator streams (records are read a batch at a time and results "
                      "written a shard at a time), so its peak resident memory (VmHWM, `coordinator_peak_rss_bytes` in "
                      "manifest.json) does not grow with the dataset. The model takes each record's largest value.", "",
                      "| dataset | coordinator peak resident memory | target | rate | command |", "|---|---:|---|---:|---|",
                      memory_row(args.memory_gib, work)]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "40-batch.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
