// The two routes of weights.html, run one at a time by web/dev/weights.mjs (which measures the
// heap around each): window.route(name, url) resolves to { ms, tensors }; window.dispose()
// frees the last route's tensors; window.sample() reads a few values of the first tensor.
import init, { Gpu } from "../pkg/tensorbridge.js";
import { fail } from "./common.js";

window.errors = [];
let gpu;
let last = [];

/** Decodes one safetensors array to a Float32Array in JS. */
function decode(dtype, bytes) {
  if (dtype === "BF16") {
    const src = new Uint16Array(bytes);
    const out = new Float32Array(src.length);
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
    return out;
  }
  if (dtype === "F16") return new Float32Array(new Float16Array(bytes));
  throw new Error(`no decoder for ${dtype}`);
}

async function usual(url) {
  const buf = await (await fetch(url)).arrayBuffer();
  const n = Number(new DataView(buf).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
  const tensors = [];
  for (const [name, { dtype, shape, data_offsets: [a, b] }] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const t = tf.tensor(decode(dtype, buf.slice(8 + n + a, 8 + n + b)), shape, "float32");
    tf.backend().uploadToGPU(t.dataId); // on the GPU now, as a model's first op would do
    tensors.push(t);
  }
  if (tf.backend().commandEncoder) tf.backend().submitQueue(); // staged copies, if any
  return tensors;
}

async function ours(url) {
  // Each array becomes a tf.Tensor (cast on the GPU) as soon as it has arrived, while the rest
  // of the file still downloads.
  const tensors = [];
  await gpu.load(url, "w.safetensors", {
    onArray: (name, t) => {
      tensors.push(t.toTfjs(tf));
      t.dispose();
    },
  });
  return tensors;
}

window.route = async (name, url) => {
  const t0 = performance.now();
  last = await (name === "usual" ? usual(url) : ours(url));
  await gpu.device.queue.onSubmittedWorkDone();
  return { ms: performance.now() - t0, tensors: last.length };
};

window.dispose = () => { for (const t of last) t.dispose(); last = []; };

/** Every 4099th value of each tensor's first 4M, as bits, to compare the routes. */
window.sample = async () => {
  const out = [];
  for (const t of last) {
    const v = new Uint32Array((await t.data()).buffer);
    for (let i = 0; i < Math.min(v.length, 4 << 20); i += 4099) out.push(v[i]);
  }
  return out;
};

window.setup = async () => {
  await init();
  gpu = await Gpu.create();
  tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => new tf.WebGPUBackend(gpu.device));
  await tf.setBackend("webgpu");
  document.getElementById("status").textContent = "running";
  return gpu.info().name;
};

window.addRow = (await import("./common.js")).addTimesRow;
window.fail = fail;
window.ready = true;
