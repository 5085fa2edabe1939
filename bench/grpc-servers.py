#!/usr/bin/python3
"""The gRPC port's two servers side by side: Tessera's own HTTP/2 server (`serve --grpc-server own`, the default)
against Kestrel's HTTP/2 with Grpc.AspNetCore and ModelInfer's unary path (`--grpc-server aspnetcore`, what main
served before), REST on the same server as the yardstick. The two alternate within each round, one server per
model and kind, so both see the same load on a shared machine.

    bench/grpc-servers.py [--seconds S] [--rounds N]

Prints a markdown table: per model, protocol and server, each round's p50, server CPU per request and GB/s.
"""
import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from distributed import children_cpu_seconds, cpu_seconds, free_port, loadgen, run, serve  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--seconds", type=float, default=5)
parser.add_argument("--rounds", type=int, default=2)
args = parser.parse_args()

rows = {}
loads = []
with tempfile.TemporaryDirectory() as tmp:
    for name, op, ins, dims in (("add", "Add", "['x','x']", "['n',16]"), ("identity", "Identity", "['x']", "['n']")):
        subprocess_args = ["/usr/bin/python3", "-c", (
            "import onnx,sys\nfrom onnx import helper as h, TensorProto as T\n"
            f"g=h.make_graph([h.make_node('{op}',{ins},['y'])],'{name}',[h.make_tensor_value_info('x',T.FLOAT,{dims})],"
            f"[h.make_tensor_value_info('y',T.FLOAT,{dims})])\n"
            "onnx.save(h.make_model(g,opset_imports=[h.make_opsetid('',13)]),sys.argv[1])"), str(Path(tmp) / f"{name}.onnx")]
        run(subprocess_args)
    for _ in range(args.rounds):
        for kind in ("aspnetcore", "own"):
            for name, shape, elements in (("add", "x=1x16", 16), ("identity", f"x={16 << 20}", 16 << 20)):
                grpc_port = free_port()
                proc, url, _ = serve(["--model", str(Path(tmp) / f"{name}.onnx"), "--threads", "1", "--max-body-mb", "128",
                                      "--grpc-server", kind], grpc_port)
                try:
                    targets = [("REST binary", None), ("gRPC raw", f"127.0.0.1:{grpc_port}")]
                    for protocol, target in targets:
                        before = cpu_seconds(proc.pid)
                        r, _ = loadgen(url, name, [shape], 1, args.seconds, target, warmup=0)
                        cpu_ms = (cpu_seconds(proc.pid) - before) * 1000 / (r["requests"] + 1)
                        gbs = r["throughput_per_s"] * elements * 8 / 1e9
                        rows.setdefault((name, protocol, kind), []).append((r["p50_ms"], cpu_ms, gbs, r["errors"]))
                    if name == "add":
                        before = cpu_seconds(proc.pid)
                        r = json.loads(run(["/usr/bin/python3", "bench/outside-client.py", "--protocol", "grpc", "--target", f"127.0.0.1:{grpc_port}",
                                            "--model", name, "--shape", "1x16", "--duration", f"{args.seconds:g}", "--warmup", "1"]))
                        cpu_ms = (cpu_seconds(proc.pid) - before) * 1000 / r["calls"]
                        rows.setdefault((name, "gRPC, python grpcio", kind), []).append((r["p50_ms"], cpu_ms, 0.0, 0))
                finally:
                    proc.terminate()
                    proc.wait(10)
                loads.append(os.getloadavg()[0])

print("| model | protocol | gRPC server | p50 ms | server CPU ms / request | GB/s (request + answer) | errors |")
print("|---|---|---|---:|---:|---:|---:|")
for (name, protocol, kind), values in rows.items():
    fmt = lambda i, f: ", ".join(f % v[i] for v in values)  # noqa: E731
    print(f"| {name} | {protocol} | {kind} | {fmt(0, '%.3f')} | {fmt(1, '%.2f')} | {fmt(2, '%.2f') if name == 'identity' else '—'} | {sum(v[3] for v in values)} |")
print(f"\nload average (1 min) after each server: {', '.join(f'{l:.1f}' for l in loads)}")
