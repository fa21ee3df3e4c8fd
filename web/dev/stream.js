// Times gpu.load(url) of a .safetensors file against fetch(url).arrayBuffer() of the same file,
// interleaved in one page. Results in window.results; window.done when finished.
import init, { Gpu } from "../pkg/tensorbridge.js";
import { addTimesRow, fail, median } from "./common.js";

const RUNS = 5;
const url = new URLSearchParams(location.search).get("file") ?? "/target/stream-bench/w.safetensors";
window.done = false;
window.results = null;
window.errors = [];
// A fresh query string each time, so no run is served from the HTTP cache.
let n = 0;
const fresh = () => `${url}?run=${n++}`;

async function baseline() {
  const t0 = performance.now();
  const bytes = await (await fetch(fresh())).arrayBuffer();
  return { ms: performance.now() - t0, bytes };
}

async function ours(gpu) {
  const t0 = performance.now();
  const arrays = await gpu.load(fresh(), "w.safetensors");
  await gpu.synchronize();
  return { ms: performance.now() - t0, arrays };
}

async function main() {
  await init();
  const gpu = await Gpu.create();
  // Warm-up, and a check: the first array's bytes equal the file's.
  const { bytes } = await baseline();
  const { arrays } = await ours(gpu);
  const header = Number(new DataView(bytes).getBigUint64(0, true));
  const [name, first] = Object.entries(arrays)[0];
  const meta = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 8, header)));
  const [start, end] = meta[name].data_offsets;
  const want = new Uint16Array(bytes.slice(8 + header + start, 8 + header + end));
  const got = await first.data();
  for (let i = 0; i < want.length; i += 997) {
    if (got[i] !== want[i]) throw new Error(`${name}[${i}] = ${got[i]}, expected ${want[i]}`);
  }
  for (const t of Object.values(arrays)) t.dispose();
  const times = { "fetch().arrayBuffer()": [], "gpu.load(url)": [] };
  for (let i = 0; i < RUNS; i++) {
    times["fetch().arrayBuffer()"].push((await baseline()).ms);
    const r = await ours(gpu);
    times["gpu.load(url)"].push(r.ms);
    for (const t of Object.values(r.arrays)) t.dispose();
  }
  for (const [route, ms] of Object.entries(times)) addTimesRow(route, ms);
  const ratio = median(times["gpu.load(url)"]) / median(times["fetch().arrayBuffer()"]);
  document.getElementById("ratio").textContent =
    `gpu.load takes ${ratio.toFixed(2)}× the time of fetch().arrayBuffer() (goal: at most 1.5×)`;
  window.results = { bytes: bytes.byteLength, times, ratio, adapter: gpu.info().name };
  document.getElementById("status").textContent = "done";
}

main().catch((e) => fail(e?.stack ?? e)).finally(() => { window.done = true; });
