// End-to-end test of ONNX Runtime Web interop (onnxruntime-web 1.31.1) in headless Chromium.
//
// - The default build ("onnxruntime-web", JSEP): tests/e2e/ort_page.js runs
//   tests/fixtures/onnx/interop.onnx on tensorbridge's device (`ort.env.webgpu.adapter =
//   gpu.sharedAdapter()`), fed by toOrt and read by fromOrt.
// - The native WebGPU EP ("onnxruntime-web/webgpu") cannot share a device in this release, a
//   known limitation in the README: it ignores `env.webgpu.device` (microsoft/onnxruntime#26107),
//   and a session given the device cannot bind GPU-buffer inputs. These pages check exactly
//   that, so the test fails when a release fixes it and the README must change.
// Needs web/pkg (web/build.sh).
import { resolve } from "node:path";
import { check, runPage } from "./browser.mjs";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const ok = "ORT (default build) runs on tensorbridge's device: toOrt, fromOrt, MatMul and the lifetime rules hold; the native EP's known limitations are as documented";
await check("ORT interop", ROOT, ok, async ({ browser, url, failures }) => {
  const shared = await runPage(browser, `${url}/tests/e2e/ort.html`, 5 * 60 * 1000);
  const result = await shared.page.evaluate(() => window.result);
  console.log("ORT default build, shared device:", JSON.stringify(result.report));
  // ORT logs its node placement as console.error even when all is well.
  failures.push(...shared.problems.filter((p) => !/VerifyEachNodeIsAssignedToAnEp/.test(p)), ...result.failures);

  // The default build ignores env.webgpu.device too: it makes its own device.
  const dflt = await runPage(browser, `${url}/tests/e2e/ort.html?mode=default-env`, 5 * 60 * 1000);
  const seenDefault = await dflt.page.evaluate(() => window.result);
  console.log("ORT default build, env.webgpu.device:", JSON.stringify(seenDefault.report));
  failures.push(...seenDefault.failures);
  if (seenDefault.report.sameDevice || seenDefault.report.right) {
    failures.push(`onnxruntime-web ${seenDefault.report.ortVersion}'s default build now uses env.webgpu.device: update the README`);
  }

  for (const mode of ["env", "session"]) {
    const page = await runPage(browser, `${url}/tests/e2e/ort.html?mode=${mode}`, 5 * 60 * 1000);
    const seen = await page.page.evaluate(() => window.result);
    console.log(`ORT native EP, device via ${mode}:`, JSON.stringify(seen.report));
    failures.push(...seen.failures);
    const known = mode === "env" ? /cannot be used with \[Device\]/ : /no data transfer registered/;
    if (seen.report.runError === null || !known.test(seen.report.runError)) {
      failures.push(`onnxruntime-web ${seen.report.ortVersion}'s native EP with the device set via ${mode} ` +
        `no longer fails as the README says (${seen.report.runError}): update the README and test it fully`);
    }
  }
});
