// End-to-end test of the demo page's file inspector: serves the repository on 127.0.0.1, opens
// web/index.html?bench=0&inspect=<fixture URL> (a streamed load), then chooses a fixture file in
// the file input, then a bad file. The dtype, shape, min, max, mean and histogram shown for each
// array are checked against values computed here from the fixture's raw bytes. Saves a
// screenshot to $TB_SCREENSHOT (default: target/inspector.png). Needs web/pkg (web/build.sh).
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { check, runPage } from "./browser.mjs";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const FIXTURES = join(ROOT, "tests/fixtures");
const TIMEOUT_MS = 5 * 60 * 1000;
const SHOT = process.env.TB_SCREENSHOT ?? join(ROOT, "target/inspector.png");
const manifest = JSON.parse(readFileSync(join(FIXTURES, "npy/manifest.json"), "utf8"));

/** float16 bits to a number. */
function half(h) {
  const e = (h >> 10) & 31, m = h & 1023, s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** The values of a raw little-endian array of `dtype`, as numbers. */
function values(dtype, bytes) {
  const b = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  switch (dtype) {
    case "bool": case "uint8": return Array.from(new Uint8Array(b));
    case "int8": return Array.from(new Int8Array(b));
    case "uint16": return Array.from(new Uint16Array(b));
    case "int16": return Array.from(new Int16Array(b));
    case "uint32": return Array.from(new Uint32Array(b));
    case "int32": return Array.from(new Int32Array(b));
    case "uint64": return Array.from(new BigUint64Array(b), Number);
    case "int64": return Array.from(new BigInt64Array(b), Number);
    case "float16": return Array.from(new Uint16Array(b), half);
    case "bfloat16": return Array.from(new Uint16Array(b), (x) => new Float32Array(new Uint32Array([x << 16]).buffer)[0]);
    case "float32": return Array.from(new Float32Array(b));
    case "float64": return Array.from(new Float64Array(b));
  }
  throw new Error(`unknown dtype ${dtype}`);
}

/** What the inspector should show for every array of `file`. */
function expected(file) {
  return manifest.filter((e) => e.file === file).map((e) => {
    const xs = values(e.dtype, readFileSync(join(FIXTURES, "npy", e.bin)));
    // np.min, np.max and np.mean: NaN when any element is NaN.
    const min = Math.min(...xs), max = Math.max(...xs);
    const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
      return { name: e.entry, dtype: e.dtype, shape: e.shape, min, max, mean };
    }
    // np.histogram(xs, 32): equal bins from min to max (min - 0.5 to max + 0.5 when they are
    // equal), the last one closed.
    const [lo, hi] = min === max ? [min - 0.5, max + 0.5] : [min, max];
    const counts = new Array(32).fill(0);
    for (const x of xs) counts[Math.min(31, Math.floor(((x - lo) / (hi - lo)) * 32))]++;
    return { name: e.entry, dtype: e.dtype, shape: e.shape, min, max, mean, counts };
  });
}

function compare(what, got, want, failures) {
  if (!Array.isArray(got)) {
    failures.push(`${what}: ${JSON.stringify(got)}`);
    return;
  }
  for (const w of want) {
    const g = got.find((r) => r.name === w.name);
    if (!g) { failures.push(`${what}: no array ${w.name}`); continue; }
    const close = (a, b) => Object.is(a, b) || Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
    const bad = [];
    if (g.dtype !== w.dtype) bad.push(`dtype ${g.dtype}`);
    if (JSON.stringify(g.shape) !== JSON.stringify(w.shape)) bad.push(`shape ${g.shape}`);
    if (!Object.is(g.min, w.min) && g.min !== w.min) bad.push(`min ${g.min} != ${w.min}`);
    if (!Object.is(g.max, w.max) && g.max !== w.max) bad.push(`max ${g.max} != ${w.max}`);
    if (!close(g.mean, w.mean)) bad.push(`mean ${g.mean} != ${w.mean}`);
    if (JSON.stringify(g.counts) !== JSON.stringify(w.counts)) bad.push(`counts ${g.counts} != ${w.counts}`);
    if (bad.length) failures.push(`${what} ${w.name}: ${bad.join(", ")}`);
  }
  if (got.length !== want.length) failures.push(`${what}: ${got.length} arrays, expected ${want.length}`);
}

/** `window.inspected`, with NaN and the infinities kept (JSON would make them null). */
const inspected = (page) => page.evaluate(() => JSON.stringify(window.inspected,
  (k, v) => (typeof v === "number" && !Number.isFinite(v) ? `#${v}` : v)))
  .then((text) => JSON.parse(text, (k, v) => (typeof v === "string" && v[0] === "#" ? Number(v.slice(1)) : v)));

await check("the file inspector", ROOT, "the file inspector shows every array's numbers, computed on the GPU, for a URL, a chosen file and a bad file", async ({ browser, url, failures }) => {
  const page0 = `${url}/web/index.html?bench=0&inspect=/tests/fixtures/npy/model.safetensors`;
  const { page, problems } = await runPage(browser, page0, TIMEOUT_MS);
  const wait = () => page.waitForFunction("window.inspectDone === true", { timeout: TIMEOUT_MS });
  await wait();
  compare("model.safetensors (URL, streamed)", await inspected(page),
    expected("model.safetensors"), failures);
  const rows = await page.$$eval("#arrays tbody tr", (trs) => trs.length);
  const bars = await page.$$eval("#arrays svg rect", (rs) => rs.length);
  const withChart = expected("model.safetensors").filter((w) => w.counts).length;
  if (rows !== 7 || bars !== withChart * 32) failures.push(`the table has ${rows} rows and ${bars} bars`);
  mkdirSync(dirname(SHOT), { recursive: true });
  await page.setViewport({ width: 1000, height: 1400 });
  await (await page.$("#inspector")).screenshot({ path: SHOT });
  console.log(`screenshot: ${SHOT}`);

  const choose = async (path) => {
    await page.evaluate(() => { window.inspectDone = false; });
    await (await page.$("#file")).uploadFile(path);
    await wait();
    return inspected(page);
  };
  compare("stored.npz (file input)", await choose(join(FIXTURES, "npy/stored.npz")),
    expected("stored.npz"), failures);
  const bad = await choose(join(FIXTURES, "bad/truncated.npy"));
  if (!/truncated/.test(bad?.error ?? "")) failures.push(`bad file: ${JSON.stringify(bad)}`);
  const shown = await page.$eval("#inspect-status", (p) => p.textContent);
  if (!/truncated/.test(shown)) failures.push(`bad file: the page says ${shown}`);
  failures.push(...problems);
});
