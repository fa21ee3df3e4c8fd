// End-to-end test of the npm package (web/pkg, from web/build.sh): packs it with `npm pack`,
// installs the tarball into tests/vite-app, builds that app with `vite build`, and runs both the
// built app and a plain <script type="module"> page (tests/vite-app/plain.html, with an import
// map) in headless Chromium. Each uploads, casts, reads back, saves and reloads. Exits non-zero on
// any failure.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { launch, runPage, serve } from "./browser.mjs";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const APP = join(ROOT, "tests/vite-app");
const TIMEOUT_MS = 5 * 60 * 1000;
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });

const packDir = mkdtempSync(join(tmpdir(), "tensorbridge-pack-"));
sh("npm", ["pack", join(ROOT, "web/pkg"), "--pack-destination", packDir, "--loglevel=error"], ROOT);
const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith(".tgz")));
sh("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], APP);
sh("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", tarball], APP);
rmSync(packDir, { recursive: true, force: true });
sh("npx", ["vite", "build", "--logLevel", "warn"], APP);

const want = {
  float32: [1, -2, 3, 16777216],
  float16Bits: [0x3c00, 0xc000, 0x4200, 0x7c00],
  reloaded: [1, -2, 3, 16777217],
  shape: [2, 2],
};
const failures = [];
const browser = await launch();
try {
  for (const [what, root, page] of [
    ["the Vite build", join(APP, "dist"), "index.html"],
    ["a plain module script", APP, "plain.html"],
  ]) {
    const { server, url } = await serve(root);
    try {
      const { page: p, problems } = await runPage(browser, `${url}/${page}`, TIMEOUT_MS);
      const result = await p.evaluate(() => window.result);
      failures.push(...problems.map((e) => `${what}: ${e}`), ...result.errors.map((e) => `${what}: ${e}`));
      for (const [k, v] of Object.entries(want)) {
        if (JSON.stringify(result[k]) !== JSON.stringify(v)) {
          failures.push(`${what}: ${k} = ${JSON.stringify(result[k])}, expected ${JSON.stringify(v)}`);
        }
      }
      if (result.memory?.numTensors !== 0) failures.push(`${what}: ${result.memory?.numTensors} tensors left`);
      console.log(`${what}: ${JSON.stringify(result)}`);
    } finally {
      server.close();
    }
  }
} catch (e) {
  failures.push(String(e?.stack ?? e));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(`FAIL the npm package:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
console.log("ok: the npm package works in a Vite build and from a plain module script");
