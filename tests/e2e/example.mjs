// End-to-end test of the example page web/examples/tfjs-mlp: tensorbridge loads a bfloat16
// .safetensors file into TF.js 4.22 tensors on its device and TF.js runs an MLP on them. The
// page's probabilities, classes, summary and saved .npy are checked against the same MLP
// computed here in float64 from the file's bytes. Needs web/pkg (web/build.sh) and
// `npm ci` in web/examples/tfjs-mlp.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { check, runPage } from "./browser.mjs";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const DIR = "web/examples/tfjs-mlp";

/** The file's arrays as float64 values, decoded from their bytes (BF16, F16). */
function load(path) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString());
  const f16 = (h) => {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
    if (e === 0) return s * f * 2 ** -24;
    if (e === 31) return f ? NaN : s * Infinity;
    return s * (1 + f / 1024) * 2 ** (e - 15);
  };
  const out = {};
  for (const [name, meta] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: [a, b] } = meta;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    const vals = [];
    for (let i = 0; i < bytes.length; i += 2) {
      const u = bytes.readUInt16LE(i);
      if (dtype === "BF16") vals.push(new Float32Array(new Uint32Array([u << 16]).buffer)[0]);
      else if (dtype === "F16") vals.push(f16(u));
      else throw new Error(`unexpected dtype ${dtype}`);
    }
    out[name] = { shape, vals };
  }
  return out;
}

/** relu(x @ w1 + b1) @ w2 + b2, softmax by rows, in float64. */
function mlp({ x, w1, b1, w2, b2 }) {
  const [rows, k1] = x.shape, [, k2] = w1.shape, [, k3] = w2.shape;
  const probs = [];
  for (let i = 0; i < rows; i++) {
    const h = Array.from({ length: k2 }, (_, j) => {
      let s = b1.vals[j];
      for (let k = 0; k < k1; k++) s += x.vals[i * k1 + k] * w1.vals[k * k2 + j];
      return Math.max(s, 0);
    });
    const z = Array.from({ length: k3 }, (_, j) => {
      let s = b2.vals[j];
      for (let k = 0; k < k2; k++) s += h[k] * w2.vals[k * k3 + j];
      return s;
    });
    const m = Math.max(...z), e = z.map((v) => Math.exp(v - m)), t = e.reduce((a, b) => a + b);
    probs.push(...e.map((v) => v / t));
  }
  return { probs, rows, cols: k3 };
}

await check("TF.js example page", ROOT, "the example page runs its MLP on tensorbridge-loaded bfloat16 weights, matching a float64 reference", async ({ browser, url, failures }) => {
  const { page, problems } = await runPage(browser, `${url}/${DIR}/index.html`, 5 * 60 * 1000);
  failures.push(...problems);
  const error = await page.evaluate(() => window.error);
  if (error) { failures.push(error); return; }
  const r = await page.evaluate(() => window.result);
  const want = mlp(load(resolve(ROOT, DIR, "mlp.safetensors")));
  if (JSON.stringify(r.shape) !== JSON.stringify([want.rows, want.cols])) failures.push(`shape ${r.shape}`);
  const worst = Math.max(...want.probs.map((p, i) => Math.abs(p - r.probs[i])));
  if (!(worst < 1e-5)) failures.push(`probabilities differ from the float64 reference by up to ${worst}`);
  for (let i = 0; i < want.rows; i++) {
    const row = want.probs.slice(i * want.cols, (i + 1) * want.cols);
    const best = row.indexOf(Math.max(...row));
    if (r.classes[i] !== best) failures.push(`input ${i}: class ${r.classes[i]}, reference ${best}`);
  }
  if (r.summary.count !== want.rows * want.cols || Math.abs(r.summary.sum - want.rows) > 1e-4) {
    failures.push(`summary ${JSON.stringify(r.summary)}`);
  }
  // The saved .npy holds exactly the values the page read.
  const npy = Buffer.from(r.npy);
  const hlen = npy.readUInt16LE(8);
  const header = npy.subarray(10, 10 + hlen).toString();
  if (!/'descr': '<f4'/.test(header) || !/'shape': \(8, 10\)/.test(header)) failures.push(`npy header ${header}`);
  const data = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + hlen, npy.byteOffset + npy.length));
  if (data.length !== r.probs.length || data.some((v, i) => !Object.is(v, Math.fround(r.probs[i])))) failures.push("the saved .npy differs from the probabilities");
  if (r.memory.numTensors !== 0) failures.push(`tensors left: ${JSON.stringify(r.memory)}`);
  const shot = resolve(ROOT, "target/example.png");
  await page.screenshot({ path: shot, fullPage: true });
});
