// Writes a Parquet file with arrow-rs's writer (parquet-wasm) and Apache Arrow's JavaScript library: an independent
// writer for the batch tests, which read the file with Tessera's own reader (Parquet.Net underneath).
//
// Usage: node conformance/write-parquet.mjs NPM_FOLDER OUT.parquet ROW_GROUP_ROWS NAME=FILE.npy...
// NPM_FOLDER holds node_modules/parquet-wasm and node_modules/apache-arrow (prepare.sh installs them into CACHE/npm-parquet,
// pinned by conformance/parquet-writer/package-lock.json).
// Each FILE.npy is a little-endian float32 array of shape [rows] or [rows, ...]: it becomes column NAME, a float32
// column or a FixedSizeList<float32> of a record's values (arrow-rs writes it as Parquet's three-level LIST). The rows
// are split into row groups of ROW_GROUP_ROWS; pages are compressed with SNAPPY.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [npm, out, groupRows, ...columns] = process.argv.slice(2);
const require = createRequire(join(npm, 'package.json'));
const arrow = require('apache-arrow');
const parquet = require('parquet-wasm/node');

function readNpy(file) {
  const bytes = readFileSync(file);
  if (bytes.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file} is not a .npy file`);
  const headerBytes = bytes[6] === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = bytes[6] === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerBytes);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) throw new Error(`${file}: not a C-order float32 array: ${header}`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const data = bytes.subarray(start + headerBytes);
  const values = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return { shape, values };
}

const vectors = {};
for (const column of columns) {
  const [name, file] = column.split('=');
  const { shape, values } = readNpy(file);
  const rows = shape[0];
  const width = shape.slice(1).reduce((a, b) => a * b, 1);
  const item = new arrow.Float32();
  const floats = arrow.makeData({ type: item, length: values.length, data: values });
  vectors[name] = shape.length === 1
    ? arrow.makeVector(floats)
    : arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeList(width, new arrow.Field('item', item, false)), length: rows, nullCount: 0, child: floats }));
}

const table = new arrow.Table(vectors);
const properties = new parquet.WriterPropertiesBuilder()
  .setMaxRowGroupSize(Number(groupRows))
  .setCompression(parquet.Compression.SNAPPY)
  .build();
const written = parquet.writeParquet(parquet.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), properties);
writeFileSync(out, written);
