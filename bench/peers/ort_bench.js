#!/usr/bin/env node
// ONNX Runtime (npm onnxruntime-node, CPU execution provider) peer for
// bench/e2e.sh. Needs NODE_PATH pointing at a node_modules with
// onnxruntime-node (e2e.sh installs it under $BUILD_DIR/bench-e2e).
//
//   node ort_bench.js bench --threads 1,2 [--iters 100] [--budget 1.0] [--warmup 10]
//        --model int8=qdq.onnx --model fp32=model.onnx --input 1=x_b1.npy --input 64=x_b64.npy
//     For each thread count, one session per model (graphOptimizationLevel
//     'all', intraOpNumThreads = N, interOpNumThreads = 1, sequential
//     execution), then per input: warm-up runs and up to --iters timed
//     session.run() calls (stopping early after --budget seconds, but never
//     under 5). Prints one line per measurement:
//       ort <label> b=<batch> t=<threads> median_ms=<m> p10_ms=<p> iters=<n>
//   node ort_bench.js eval model.onnx images.npy logits.npy [--limit N] [--optimized out.onnx]
//     Writes the logits of the first N rows (batches of 100), 1 thread;
//     --optimized saves the graph ORT runs (after its fusions).
//   node ort_bench.js version
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = b.toString('latin1', hstart, hstart + hlen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(`${path}: expected a C-order float32 array, header ${header}`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',')
    .map((s) => s.trim()).filter((s) => s.length).map(Number);
  const n = shape.reduce((a, c) => a * c, 1);
  const off = hstart + hlen;
  // copy into a fresh (aligned) buffer; .npy data is little-endian like x86
  const data = new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + 4 * n));
  return { shape, data };
}

function writeNpy(path, shape, data) {
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + h.length + 1;
  h += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(h.length, 8);
  const body = Buffer.from(new Float32Array(data).buffer);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(h, 'latin1'), body]));
}

function opts(threads, extra) {
  return Object.assign({
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  }, extra || {});
}

function parseArgs(argv) {
  const a = { model: [], input: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (!k.startsWith('--')) { (a._ = a._ || []).push(k); continue; }
    const key = k.slice(2);
    const v = argv[++i];
    if (Array.isArray(a[key])) a[key].push(v); else a[key] = v;
  }
  return a;
}

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
function median(v) {
  const s = [...v].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function bench(a) {
  const threads = (a.threads || '1').split(',').map(Number);
  const iters = Number(a.iters || 100), budget = Number(a.budget || 1.0), warmup = Number(a.warmup || 10);
  const models = a.model.map((s) => s.split(/=(.*)/s).slice(0, 2));
  const inputs = a.input.map((s) => { const [b, p] = s.split(/=(.*)/s); return [b, readNpy(p)]; });
  for (const t of threads) {
    const sessions = [];
    for (const [label, path] of models) sessions.push([label, await ort.InferenceSession.create(path, opts(t))]);
    for (const [b, x] of inputs) {
      for (const [label, s] of sessions) {
        const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
        for (let i = 0; i < warmup; i++) await s.run(feeds);
        const times = [];
        const t0 = process.hrtime.bigint();
        while (times.length < iters) {
          const s0 = process.hrtime.bigint();
          await s.run(feeds);
          const s1 = process.hrtime.bigint();
          times.push(Number(s1 - s0) / 1e6);
          if (times.length >= 5 && Number(s1 - t0) / 1e9 > budget) break;
        }
        const sorted = [...times].sort((x, y) => x - y);
        console.log(`ort ${label} b=${b} t=${t} median_ms=${median(times).toFixed(4)} ` +
                    `p10_ms=${pct(sorted, 0.1).toFixed(4)} iters=${times.length}`);
      }
    }
    for (const [, s] of sessions) if (s.release) await s.release();
  }
}

async function evaluate(a) {
  const [model, images, out] = a._.slice(1);
  const x = readNpy(images);
  const limit = Math.min(Number(a.limit || x.shape[0]), x.shape[0]);
  const extra = a.optimized ? { optimizedModelFilePath: a.optimized } : {};
  const s = await ort.InferenceSession.create(model, opts(1, extra));
  const row = x.shape.slice(1).reduce((p, c) => p * c, 1);
  const logits = [];
  let ncls = 0;
  for (let i = 0; i < limit; i += 100) {
    const n = Math.min(100, limit - i);
    const t = new ort.Tensor('float32', x.data.subarray(i * row, (i + n) * row), [n, ...x.shape.slice(1)]);
    const r = await s.run({ [s.inputNames[0]]: t });
    const y = r[s.outputNames[0]];
    ncls = y.dims[1];
    logits.push(...y.data);
  }
  writeNpy(out, [limit, ncls], logits);
}

(async () => {
  const a = parseArgs(process.argv.slice(2));
  const cmd = (a._ || [])[0];
  if (cmd === 'bench') await bench(a);
  else if (cmd === 'eval') await evaluate(a);
  else if (cmd === 'version') {
    console.log(require('onnxruntime-node/package.json').version);
  } else {
    console.error('usage: ort_bench.js bench|eval|version ...');
    process.exit(2);
  }
})().catch((e) => { console.error(`ort_bench: error: ${e.stack || e}`); process.exit(1); });
