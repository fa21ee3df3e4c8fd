// End-to-end test of the demo page: serves web/ on 127.0.0.1, opens index.html in headless
// Chromium, and checks that it shows adapter info and a full, checked results table with no
// errors. Needs web/pkg (web/build.sh). Exits non-zero on any failure.
import { check, runPage } from "./browser.mjs";

const TIMEOUT_MS = 10 * 60 * 1000;
await check("web/index.html", undefined, "web/index.html shows adapter info and 6 checked results, no errors", async ({ browser, url, failures }) => {
  const { page, problems } = await runPage(browser, `${url}/index.html`, TIMEOUT_MS);
  const report = await page.evaluate(() => ({
    results: window.results,
    errors: window.errors,
    status: document.getElementById("status").textContent,
    info: [...document.querySelectorAll("#info dt")].map((dt) => [dt.textContent, dt.nextElementSibling.textContent]),
    rows: [...document.querySelectorAll("#results tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
    bars: document.querySelectorAll("#chart rect").length,
    errorsShown: !document.getElementById("errors").hidden,
  }));
  failures.push(...problems, ...report.errors);
  if (report.errorsShown) failures.push("the page shows an error box");
  const info = Object.fromEntries(report.info);
  if (info.backend !== "BrowserWebGpu") failures.push(`backend is ${info.backend}`);
  if (report.rows.length !== 6) failures.push(`${report.rows.length} result rows, expected 6`);
  for (const r of report.results) {
    for (const k of ["upload", "readback", "endToEnd"]) {
      if (!(r[k] > 0 && Number.isFinite(r[k]))) failures.push(`${r.name} ${r.n}: ${k} = ${r[k]}`);
    }
    if (r.name !== "float32 round trip" && !(r.cast > 0)) failures.push(`${r.name}: cast = ${r.cast}`);
  }
  if (report.bars < 6 * 2) failures.push(`the chart has ${report.bars} bars`);
  if (!report.status.startsWith("done")) failures.push(`status: ${report.status}`);
  console.log(`adapter: ${info.name} (${info.backend}, path ${info["transfer path"]}, native casts: ${info["native casts"]})`);
  console.log(["case", "elements", "upload ms", "cast ms", "readback ms", "end to end ms", "MB/s"].join(" | "));
  for (const row of report.rows) console.log(row.join(" | "));
});
