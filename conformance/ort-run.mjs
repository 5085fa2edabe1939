// Runs models with onnxruntime-node on inputs written by make-ort-cases.py and writes the outputs back.
//
// Usage: node conformance/ort-run.mjs JOB.json
// JOB.json: {"npm": FOLDER holding node_modules/onnxruntime-node, "runs": [{"model": PATH, "sets": [{"inputs": [{"name", "type", "dims", "file"}],
//                                            "outputs": [{"name", "file"}]}]}]}
// Each input file holds the raw little-endian elements; each output is written the same way to its file,
// with FILE.json beside it giving {"type", "dims"}. One intra-op thread, so the reference is deterministic.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// The runtime is installed under the cache (prepare.sh), not beside this script.
const ort = createRequire(join(job.npm, 'package.json'))('onnxruntime-node');

const arrays = {
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  bool: Uint8Array,
};

function readTensor(input) {
  const bytes = readFileSync(input.file);
  const ArrayType = arrays[input.type];
  if (!ArrayType) {
    throw new Error(`unsupported input type ${input.type}`);
  }
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return new ort.Tensor(input.type, new ArrayType(copy), input.dims);
}

function writeTensor(output, tensor) {
  const data = tensor.data;
  writeFileSync(output.file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  writeFileSync(`${output.file}.json`, JSON.stringify({ type: tensor.type, dims: tensor.dims }));
}

const options = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

for (const run of job.runs) {
  const session = await ort.InferenceSession.create(run.model, options);
  for (const set of run.sets) {
    const feeds = {};
    for (const input of set.inputs) {
      feeds[input.name] = readTensor(input);
    }
    const results = await session.run(feeds);
    for (const output of set.outputs) {
      if (!(output.name in results)) {
        throw new Error(`${run.model}: no output named ${output.name}`);
      }
      writeTensor(output, results[output.name]);
    }
  }
  await session.release();
  console.log(`  onnxruntime-node ${ort.env.versions.common} ran ${run.sets.length} data set(s) of ${run.model}`);
}
