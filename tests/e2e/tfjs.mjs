// End-to-end test of TF.js interop: TF.js 4.22's WebGPU backend runs on tensorbridge's device in
// headless Chromium, and tests/e2e/tfjs_page.js checks toTfjs for every dtype, fromTfjs, a TF.js
// matMul between them, and the lifetime rules. Needs web/pkg (web/build.sh).
import { resolve } from "node:path";
import { check, runPage } from "./browser.mjs";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
await check("TF.js interop", ROOT, "TF.js runs on tensorbridge's device; toTfjs, fromTfjs, matMul and the lifetime rules hold", async ({ browser, url, failures }) => {
  const { page, problems } = await runPage(browser, `${url}/tests/e2e/tfjs.html`, 5 * 60 * 1000);
  const result = await page.evaluate(() => window.result);
  failures.push(...problems, ...result.failures);
});
