// Weights into TF.js: a 128 MiB bfloat16 and a float16 .safetensors file served on 127.0.0.1
// become float32 tf.Tensors on the WebGPU backend, through tensorbridge and the usual way.
// Times each route (interleaved, same page) and its JS heap peak. Dev only, not a test:
//   (cd tests/e2e && npm ci) && (cd web/dev && npm ci) && bash web/build.sh && node web/dev/weights.mjs
import { join, resolve } from "node:path";
import { launch, serve } from "../../tests/e2e/browser.mjs";
import { writeWeights } from "./weights_file.mjs";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const RUNS = Number(process.env.RUNS ?? 5);

function write(dtype, bits) {
  writeWeights(join(ROOT, `target/weights-bench/${dtype}.safetensors`), dtype, bits);
  return `/target/weights-bench/${dtype}.safetensors`;
}

const files = { bfloat16: write("BF16", (m) => 0x3c00 + m), float16: write("F16", (m) => 0x3000 + m) };
const { server, url } = await serve(ROOT);
const browser = await launch();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const page = await browser.newPage();
  page.on("console", (m) => m.type() === "error" && console.error(m.text()));
  page.on("pageerror", (e) => console.error(e.message));
  await page.goto(`${url}/web/dev/weights.html`);
  await page.waitForFunction("window.ready === true", { timeout: 60000 });
  const adapter = await page.evaluate(() => window.setup());
  const cdp = await page.createCDPSession();
  const heap = async () => {
    const u = await cdp.send("Runtime.getHeapUsage");
    return u.usedSize + (u.backingStorageSize ?? 0);
  };
  let n = 0;
  /** Runs one route, polling the heap meanwhile; the peak is above the heap after a GC. */
  async function run(route, file) {
    await cdp.send("HeapProfiler.collectGarbage");
    const base = await heap();
    let peak = base, polling = true;
    const poll = (async () => { while (polling) { peak = Math.max(peak, await heap()); await new Promise((r) => setTimeout(r, 2)); } })();
    let r;
    try {
      r = await page.evaluate((route, u) => window.route(route, u), route, `${file}?run=${n++}`);
    } finally {
      polling = false;
      await poll.catch(() => {});
    }
    peak = Math.max(peak, await heap());
    return { ...r, peakMiB: (peak - base) / 2 ** 20 };
  }
  const results = { adapter, runs: RUNS };
  for (const [dtype, file] of Object.entries(files)) {
    // Warm-up, and a check that both routes give TF.js the same bits.
    const samples = [];
    for (const route of ["usual", "tensorbridge"]) {
      await run(route, file);
      samples.push(await page.evaluate(() => window.sample()));
      await page.evaluate(() => window.dispose());
    }
    if (samples[0].length === 0 || samples[0].some((v, i) => v !== samples[1][i])) throw new Error(`${dtype}: the routes differ`);
    const t = { usual: [], tensorbridge: [] }, peak = { usual: [], tensorbridge: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const route of ["usual", "tensorbridge"]) {
        const r = await run(route, file);
        t[route].push(r.ms);
        peak[route].push(r.peakMiB);
        await page.evaluate(() => window.dispose());
      }
    }
    for (const route of ["usual", "tensorbridge"]) await page.evaluate((name, ms) => window.addRow(name, ms), `${dtype}: ${route}`, t[route]);
    results[dtype] = {
      ms: t,
      heapPeakMiB: peak,
      speedup: median(t.usual) / median(t.tensorbridge),
      heapRatio: median(peak.tensorbridge) / median(peak.usual),
    };
    console.log(`${dtype}: usual ${median(t.usual).toFixed(0)} ms, peak ${median(peak.usual).toFixed(0)} MiB; ` +
      `tensorbridge ${median(t.tensorbridge).toFixed(0)} ms, peak ${median(peak.tensorbridge).toFixed(0)} MiB; ` +
      `${results[dtype].speedup.toFixed(2)}× faster (goal ≥ 3×), heap ${results[dtype].heapRatio.toFixed(2)}× (goal ≤ 0.5×)`);
  }
  console.log(JSON.stringify(results, (k, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v)));
} finally {
  await browser.close();
  server.close();
}
