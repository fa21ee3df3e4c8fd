// Dev-only comparison page: 16M int32 -> float32 -> host, tensorbridge vs TF.js, interleaved.
import init, { Gpu } from "../pkg/tensorbridge.js";
import { addTimesRow, fail, median } from "./common.js";

const N = 16 << 20;
const RUNS = 7;

window.done = false;
window.errors = [];

async function ours(gpu, input) {
  const t0 = performance.now();
  const t = gpu.tensor(input);
  const f = t.cast("float32");
  const out = await f.data();
  const ms = performance.now() - t0;
  t.dispose();
  f.dispose();
  return { ms, out };
}

async function tfjs(input) {
  const t0 = performance.now();
  const x = tf.tensor(input, [input.length], "int32");
  const c = tf.cast(x, "float32");
  const y = tf.mul(c, 1);
  const out = await y.data();
  const ms = performance.now() - t0;
  tf.dispose([x, c, y]);
  return { ms, out };
}

function same(a, b) {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      return `element ${i}: ${a[i]} vs ${b[i]}`;
    }
  }
  return null;
}


async function main() {
  await init();
  const gpu = await Gpu.create();
  if (!(await tf.setBackend("webgpu"))) throw new Error("TF.js could not open its WebGPU backend");
  await tf.ready();
  const input = new Int32Array(N);
  // Values within +-2^24 so that TF.js's float32 cast is exact too.
  for (let i = 0; i < N; i++) input[i] = ((i * 2654435761) % 33554431) - 16777215;
  const a = await ours(gpu, input);
  const b = await tfjs(input);
  if (!(a.out instanceof Float32Array)) throw new Error("ours did not return a Float32Array");
  const diff = same(a.out, b.out);
  if (diff) throw new Error(`outputs differ: ${diff}`);
  const times = { tensorbridge: [], "TF.js": [] };
  for (let r = 0; r < RUNS; r++) {
    times.tensorbridge.push((await ours(gpu, input)).ms);
    times["TF.js"].push((await tfjs(input)).ms);
  }
  window.results = {};
  for (const [name, ms] of Object.entries(times)) {
    window.results[name] = { median: median(ms), min: Math.min(...ms), runs: ms };
    addTimesRow(name, ms);
  }
  const ratio = median(times["TF.js"]) / median(times.tensorbridge);
  window.results.ratio = ratio;
  window.results.nativeCasts = gpu.info().nativeCasts;
  document.getElementById("ratio").textContent =
    `TF.js median / tensorbridge median = ${ratio.toFixed(2)}× (goal ≥ 1.5×)`;
  document.getElementById("status").textContent = `done; adapter ${tf.getBackend()} / ${gpu.info().backend}`;
}

main().catch((e) => fail(e?.stack ?? e)).finally(() => { window.done = true; });
