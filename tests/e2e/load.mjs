// End-to-end test of gpu.load over HTTP: serves the repository on 127.0.0.1 and, in headless
// Chromium, loads every fixture by URL (streamed from the response body) and compares each
// array's bytes with its .bin file; every bad fixture must reject with its message. Needs web/pkg
// (web/build.sh).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { check, runPage } from "./browser.mjs";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const manifest = JSON.parse(readFileSync(join(ROOT, "tests/fixtures/npy/manifest.json"), "utf8"));
const BAD = [
  ["truncated.npy", "truncated"],
  ["header_lies.npy", "does not match"],
  ["huge_header.npy", "limit"],
  ["object.npy", "object"],
  ["overflow.npy", "overflow"],
  ["bad_bool.npy", "bool"],
  ["not_npy.npy", "not an .npy"],
  ["offsets_out_of_range.safetensors", "incomplete"],
  ["offsets_overlap.safetensors", "offset"],
  ["unsupported_dtype.safetensors", "f8_e4m3"],
  ["header_garbage.safetensors", "header"],
  ["not_npy_entry.npz", "not an .npy"],
  ["truncated.npz", "zip"],
];

await check("gpu.load over HTTP", ROOT, "every fixture loads bit-exact by URL from 127.0.0.1, and every bad one gives its error", async ({ browser, url, failures }) => {
  const { page, problems } = await runPage(browser, `${url}/web/index.html?bench=0`, 5 * 60 * 1000);
  const report = await page.evaluate(async (manifest, bad) => {
    const { Gpu } = await import("/web/pkg/tensorbridge.js");
    const gpu = await Gpu.create();
    const out = [];
    const files = [...new Set(manifest.map((e) => e.file))];
    for (const file of files) {
      try {
        const arrays = await gpu.load(`/tests/fixtures/npy/${file}`, undefined, { bf16: true });
        for (const e of manifest.filter((m) => m.file === file)) {
          const t = arrays[e.entry];
          if (!t) { out.push(`${file}: no ${e.entry}`); continue; }
          const want = new Uint8Array(await (await fetch(`/tests/fixtures/npy/${e.bin}`)).arrayBuffer());
          const data = await t.data();
          const got = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
          const same = got.length === want.length && got.every((b, i) => b === want[i]);
          if (!same || t.dtype !== e.dtype || JSON.stringify(t.shape) !== JSON.stringify(e.shape)) {
            out.push(`${file} ${e.entry}: ${t.dtype} ${JSON.stringify(t.shape)}, bytes ${same ? "equal" : "differ"}`);
          }
        }
        for (const t of Object.values(arrays)) t.dispose();
      } catch (err) {
        out.push(`${file}: ${err.message}`);
      }
    }
    for (const [file, needle] of bad) {
      try {
        await gpu.load(`/tests/fixtures/bad/${file}`);
        out.push(`${file}: loaded`);
      } catch (err) {
        if (!err.message.toLowerCase().includes(needle)) out.push(`${file}: ${err.message}`);
      }
    }
    try {
      await gpu.load("/tests/fixtures/npy/missing.npy");
      out.push("missing.npy: loaded");
    } catch (err) {
      if (!/HTTP 404/.test(err.message)) out.push(`missing.npy: ${err.message}`);
    }
    return { failures: out, files: files.length, left: gpu.memory().numTensors };
  }, manifest, BAD);
  failures.push(...report.failures);
  if (report.left !== 0) failures.push(`${report.left} tensors left`);
  // The 404 is expected, and so are the downloads of bad files cancelled at their first error.
  const cancelled = (p) => BAD.some(([f]) => p === `request failed: ${url}/tests/fixtures/bad/${f}`);
  failures.push(...problems.filter((p) => !p.includes("missing.npy") && !p.includes("404 (Not Found)") && !cancelled(p)));
  console.log(`loaded ${report.files} fixture files by URL, ${BAD.length} bad ones rejected`);
});
