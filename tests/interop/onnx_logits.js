// Runs an ONNX model that `soma export` wrote with onnxruntime-node on the first N images
// of an IDX file and compares its logits with the ones `soma predict --logits` printed.
// Usage: node onnx_logits.js MODEL.onnx IMAGES.idx[.gz] SOMA_LOGITS.txt N TOLERANCE
// (NODE_PATH must reach onnxruntime-node). Prints the largest difference; exit 1 above
// the tolerance.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

function readIdx(path, n) {
  let raw = fs.readFileSync(path);
  if (path.endsWith('.gz')) raw = zlib.gunzipSync(raw);
  const ndim = raw[3];
  const dims = [];
  for (let d = 0; d < ndim; d++) dims.push(raw.readUInt32BE(4 + 4 * d));
  const count = Math.min(n, dims[0]);
  const shape = ndim === 3 ? [count, 1, dims[1], dims[2]] : [count, dims[1], dims[2], dims[3]];
  const size = shape[1] * shape[2] * shape[3];
  const pixels = new Float32Array(count * size);
  const start = 4 + 4 * ndim;
  for (let i = 0; i < count * size; i++) pixels[i] = raw[start + i]; // raw 0..255, as soma takes
  return { pixels, shape };
}

async function main() {
  const [model, images, logitsPath, n, tolerance] = process.argv.slice(2);
  const { pixels, shape } = readIdx(images, Number(n));
  const session = await ort.InferenceSession.create(model);
  const result = await session.run({ input: new ort.Tensor('float32', pixels, shape) });
  const got = result.logits;
  const rows = fs.readFileSync(logitsPath, 'utf8').trim().split('\n').slice(0, shape[0]);
  const classes = got.dims[1];
  let worst = 0;
  let sameClass = 0;
  rows.forEach((line, i) => {
    const soma = line.trim().split(/\s+/).slice(1).map(Number);
    if (soma.length !== classes) throw new Error(`row ${i}: ${soma.length} logits, ONNX has ${classes}`);
    let best = 0;
    let bestSoma = 0;
    for (let k = 0; k < classes; k++) {
      const ours = got.data[i * classes + k];
      worst = Math.max(worst, Math.abs(ours - soma[k]));
      if (ours > got.data[i * classes + best]) best = k;
      if (soma[k] > soma[bestSoma]) bestSoma = k;
    }
    if (best === bestSoma) sameClass++;
  });
  if (rows.length !== shape[0] || got.dims[0] !== shape[0]) throw new Error('row counts differ');
  const ok = worst <= Number(tolerance);
  console.log(`${model}: ${shape[0]} images, max |logit difference| ${worst.toExponential(2)} ` +
              `(tolerance ${tolerance}), same class ${(100 * sameClass / shape[0]).toFixed(2)}%: ` +
              (ok ? 'ok' : 'FAILED'));
  process.exit(ok ? 0 : 1);
}

main().catch((e) => { console.error(`onnx_logits: ${e.message}`); process.exit(2); });
