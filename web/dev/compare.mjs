// Runs web/dev/compare.html headless and prints the numbers. Dev only, not part of the tests:
//   (cd tests/e2e && npm ci) && (cd web/dev && npm install) && bash web/build.sh
//   node web/dev/compare.mjs
import { launch, runPage, serve } from "../../tests/e2e/browser.mjs";

const { server, url } = await serve();
const browser = await launch();
try {
  const { page, problems } = await runPage(browser, `${url}/dev/compare.html`, 10 * 60 * 1000);
  const { results, errors } = await page.evaluate(() => ({ results: window.results, errors: window.errors }));
  for (const p of [...problems, ...errors]) console.error(p);
  console.log(JSON.stringify(results, null, 1));
} finally {
  await browser.close();
  server.close();
}
