// Times onnxruntime-node on one model the way `tessera bench` times Tessera, and prints one JSON object.
//
// Usage: node bench/ort-bench.mjs --npm DIR --model M [--input NAME=FILE.npy ...] [--threads T] [--warmup W]
//                                 [--iterations N] [--max-seconds S] [--profile PREFIX]
// --profile writes ONNX Runtime's own profile (per-node times of every run) to PREFIX_<date>.json (bench/layers.py).
// DIR holds node_modules/onnxruntime-node (conformance/prepare.sh installs it under .cache/npm).
// Session options: intraOpNumThreads T, interOpNumThreads 1, sequential execution, graphOptimizationLevel 'all'.
// Latency is measured around each awaited session.run(feeds) call, so it includes the binding's small
// per-call overhead (creating output tensors), as a Node user of ONNX Runtime pays it.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function parseArgs(argv) {
  const args = { inputs: [], threads: 1, warmup: 5, iterations: 50, maxSeconds: Infinity };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--npm': args.npm = value(); break;
      case '--model': args.model = value(); break;
      case '--input': args.inputs.push(value()); break;
      case '--threads': args.threads = Number(value()); break;
      case '--warmup': args.warmup = Number(value()); break;
      case '--iterations': args.iterations = Number(value()); break;
      case '--max-seconds': args.maxSeconds = Number(value()); break;
      case '--profile': args.profile = value(); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!args.npm || !args.model) throw new Error('--npm and --model are required');
  return args;
}

// The .npy subset numpy writes for plain arrays: version 1-3 header, little-endian, C order.
const npyTypes = {
  '<f4': ['float32', Float32Array],
  '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array],
  '|u1': ['uint8', Uint8Array],
  '|i1': ['int8', Int8Array],
  '|b1': ['bool', Uint8Array],
};

function readNpy(ort, file) {
  const bytes = readFileSync(file);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file} is not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !(descr in npyTypes) || fortran !== 'False' || shapeText === undefined) {
    throw new Error(`${file}: unsupported .npy header ${header.trim()}`);
  }
  const dims = shapeText.split(',').map(s => s.trim()).filter(s => s.length > 0).map(Number);
  const [type, ArrayType] = npyTypes[descr];
  const offset = start + headerLength;
  const data = bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + bytes.byteLength);
  return new ort.Tensor(type, new ArrayType(data), dims);
}

function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return {
    median_ms: median,
    p90_ms: sorted[Math.ceil(0.9 * n) - 1],
    min_ms: sorted[0],
    max_ms: sorted[n - 1],
    mean_ms: sorted.reduce((a, b) => a + b, 0) / n,
  };
}

const args = parseArgs(process.argv.slice(2));
const ort = createRequire(join(args.npm, 'package.json'))('onnxruntime-node');
const feeds = {};
for (const spec of args.inputs) {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--input ${spec} must be NAME=FILE.npy`);
  feeds[spec.slice(0, eq)] = readNpy(ort, spec.slice(eq + 1));
}

const loadStart = process.hrtime.bigint();
const session = await ort.InferenceSession.create(args.model, {
  intraOpNumThreads: args.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  ...(args.profile ? { enableProfiling: true, profileFilePrefix: args.profile } : {}),
});
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;

let firstRunMs = null;
for (let i = 0; i < args.warmup; i++) {
  const start = process.hrtime.bigint();
  await session.run(feeds);
  firstRunMs ??= Number(process.hrtime.bigint() - start) / 1e6;
}

const times = [];
const cpuStart = process.cpuUsage();
const loopStart = process.hrtime.bigint();
while (times.length < args.iterations) {
  const start = process.hrtime.bigint();
  await session.run(feeds);
  const end = process.hrtime.bigint();
  times.push(Number(end - start) / 1e6);
  if (Number(end - loopStart) / 1e9 >= args.maxSeconds) break;
}
const loopSeconds = Number(process.hrtime.bigint() - loopStart) / 1e9;
const cpu = process.cpuUsage(cpuStart);
await session.release();

console.log(JSON.stringify({
  runtime: `onnxruntime-node ${ort.env.versions.common}`,
  model: args.model,
  threads: args.threads,
  warmup: args.warmup,
  iterations: times.length,
  load_ms: loadMs,
  first_run_ms: firstRunMs,
  ...stats(times),
  throughput_per_s: times.length / loopSeconds,
  cpu_ms_per_inference: (cpu.user + cpu.system) / 1000 / times.length,
  peak_working_set_bytes: process.resourceUsage().maxRSS * 1024,
}, null, 2));
