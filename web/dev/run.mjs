// Opens a dev page headless on 127.0.0.1 (the repository served) and prints window.results.
import { resolve } from "node:path";
import { launch, runPage, serve } from "../../tests/e2e/browser.mjs";

export async function runDevPage(path) {
  const { server, url } = await serve(resolve(new URL("../..", import.meta.url).pathname));
  const browser = await launch();
  try {
    const { page, problems } = await runPage(browser, `${url}/${path}`, 10 * 60 * 1000);
    const { results, errors } = await page.evaluate(() => ({ results: window.results, errors: window.errors }));
    for (const p of [...problems, ...errors]) console.error(p);
    console.log(JSON.stringify(results, null, 1));
  } finally {
    await browser.close();
    server.close();
  }
}
