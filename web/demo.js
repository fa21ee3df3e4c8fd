// The demo page: adapter info, then upload / cast / readback timings at 1M and 16M elements.
import init, { Gpu } from "./pkg/tensorbridge.js";
import { setUpInspector } from "./inspector.js";

const SIZES = [1 << 20, 16 << 20];
const CASES = [
  { name: "float32 round trip", input: Float32Array, to: null },
  { name: "int32 → float32", input: Int32Array, to: "float32" },
  { name: "float64 → float32", input: Float64Array, to: "float32" },
];
const RUNS = 3;
const STAGES = [
  ["upload", "#4c72b0"],
  ["cast", "#dd8452"],
  ["readback", "#55a868"],
];

window.done = false;
window.results = [];
window.errors = [];

function fail(message) {
  window.errors.push(String(message));
  const box = document.getElementById("errors");
  box.hidden = false;
  box.querySelector("pre").textContent = window.errors.join("\n");
}
window.addEventListener("error", (e) => fail(e.message));
window.addEventListener("unhandledrejection", (e) => fail(e.reason?.stack ?? e.reason));

const status = (text) => { document.getElementById("status").textContent = text; };
const nextFrame = () => new Promise((r) => setTimeout(r, 0));

function showInfo(info) {
  const rows = [
    ["name", info.name || "(not reported)"],
    ["backend", info.backend],
    ["device type", info.deviceType],
    ["driver", info.driver || "(not reported)"],
    ["transfer path", info.path],
    ["max buffer", `${info.limits.maxBufferSize / 2 ** 20} MiB`],
    ["max storage binding", `${info.limits.maxStorageBufferBindingSize / 2 ** 20} MiB`],
    ["chunk", `${info.maxChunkBytes / 2 ** 20} MiB`],
    ["features", info.features.join(" ") || "(none)"],
    ["native casts", info.nativeCasts.join(" ") || "(none: integer arithmetic only)"],
  ];
  const dl = document.getElementById("info");
  dl.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = v;
    return [dt, dd];
  }));
}

/** Deterministic input in the exactly-representable range of float32. */
function makeInput(Type, n) {
  const a = new Type(n);
  for (let i = 0; i < n; i++) a[i] = ((i * 2654435761) % 2000003) - 1000001;
  return a;
}

/** One timed run: each stage followed by gpu.synchronize(). */
async function staged(gpu, input, to) {
  const t0 = performance.now();
  const t = gpu.tensor(input);
  await gpu.synchronize();
  const t1 = performance.now();
  const c = to ? t.cast(to) : t;
  await gpu.synchronize();
  const t2 = performance.now();
  const out = await c.data();
  const t3 = performance.now();
  t.dispose();
  c.dispose();
  return { upload: t1 - t0, cast: to ? t2 - t1 : null, readback: t3 - t2, out };
}

/** One run as an application would write it: no synchronisation between the stages. */
async function endToEnd(gpu, input, to) {
  const t0 = performance.now();
  const t = gpu.tensor(input);
  const c = to ? t.cast(to) : t;
  const out = await c.data();
  const ms = performance.now() - t0;
  t.dispose();
  c.dispose();
  return { ms, out };
}

function check(name, input, out) {
  const want = out instanceof Float32Array ? Math.fround : (x) => x;
  for (let k = 0; k < 1000; k++) {
    const i = Math.floor((k / 1000) * input.length);
    if (out[i] !== want(input[i])) {
      throw new Error(`${name}: element ${i} is ${out[i]}, expected ${want(input[i])}`);
    }
  }
  if (out.length !== input.length) throw new Error(`${name}: ${out.length} elements back`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => (x == null ? "–" : x.toFixed(1));

function addRow(r) {
  const tr = document.createElement("tr");
  for (const v of [r.name, r.n.toLocaleString("en"), fmt(r.upload), fmt(r.cast),
    fmt(r.readback), fmt(r.endToEnd), (r.bytes / r.endToEnd / 1e3).toFixed(0)]) {
    const td = document.createElement("td");
    td.textContent = v;
    tr.append(td);
  }
  document.querySelector("#results tbody").append(tr);
}

function drawChart(results) {
  const svg = document.getElementById("chart");
  const ns = "http://www.w3.org/2000/svg";
  const W = 720, label = 210, bar = 18, gap = 8, top = 24;
  const H = top + results.length * (bar + gap) + 10;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", "100%");
  const max = Math.max(...results.map((r) => r.upload + (r.cast ?? 0) + r.readback));
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    svg.append(e);
  };
  STAGES.forEach(([name, color], i) => {
    el("rect", { x: label + i * 110, y: 4, width: 12, height: 12, fill: color });
    el("text", { x: label + i * 110 + 16, y: 14 }, name);
  });
  results.forEach((r, k) => {
    const y = top + k * (bar + gap);
    el("text", { x: 0, y: y + 13 }, `${r.name}, ${r.n >> 20}M`);
    let x = label;
    for (const [name, color] of STAGES) {
      const w = ((r[name] ?? 0) / max) * (W - label - 60);
      el("rect", { x, y, width: Math.max(w, 0), height: bar, fill: color });
      x += w;
    }
    el("text", { x: x + 4, y: y + 13 }, `${fmt(r.upload + (r.cast ?? 0) + r.readback)} ms`);
  });
}

async function main() {
  const gpuReady = init().then(() => Gpu.create());
  setUpInspector(gpuReady);
  const gpu = await gpuReady;
  showInfo(gpu.info());
  if (new URLSearchParams(location.search).get("bench") === "0") {
    status("skipped (?bench=0)");
    return;
  }
  for (const n of SIZES) {
    for (const c of CASES) {
      const name = c.name;
      status(`running ${name} at ${n >> 20}M elements…`);
      await nextFrame();
      const input = makeInput(c.input, n);
      const warm = await staged(gpu, input, c.to);
      check(name, input, warm.out);
      const runs = [];
      const e2e = [];
      for (let i = 0; i < RUNS; i++) {
        runs.push(await staged(gpu, input, c.to));
        const e = await endToEnd(gpu, input, c.to);
        check(name, input, e.out);
        e2e.push(e.ms);
      }
      const r = {
        name, n, bytes: input.byteLength,
        upload: median(runs.map((x) => x.upload)),
        cast: c.to ? median(runs.map((x) => x.cast)) : null,
        readback: median(runs.map((x) => x.readback)),
        endToEnd: median(e2e),
      };
      window.results.push(r);
      addRow(r);
    }
  }
  drawChart(window.results);
  const m = gpu.memory();
  if (m.numTensors !== 0) fail(`${m.numTensors} tensors leaked`);
  status(`done: ${window.results.length} cases, all outputs checked`);
}

main()
  .catch((e) => {
    fail(e?.stack ?? e);
    status("failed");
  })
  .finally(() => {
    window.done = true;
  });
