// Serves web/ on 127.0.0.1 and opens pages in headless Chromium (/usr/bin/chromium, or
// $CHROMIUM) with WebGPU enabled, through puppeteer-core.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import puppeteer from "puppeteer-core";

export const WEB = resolve(new URL("../../web", import.meta.url).pathname);

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
};

/** A static file server for `root` on 127.0.0.1 and a free port. */
export async function serve(root = WEB) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = join(root, path.endsWith("/") ? join(path, "index.html") : path);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

/** Headless Chromium with the flags WebGPU needs here (see shared/FINDINGS.md). */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "tensorbridge-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    userDataDir: profile,
    args: [
      "--enable-unsafe-webgpu",
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      "--disable-dev-shm-usage",
    ],
  });
  browser.on("disconnected", () => {
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch {
      // Chromium may still be writing its profile; a leftover temp dir is harmless.
    }
  });
  return browser;
}

/**
 * Opens `url`, waits until `window.done` is true, and returns what the page reports plus every
 * console error and uncaught exception seen on the way.
 */
export async function runPage(browser, url, timeoutMs) {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(url);
  await page.waitForFunction("window.done === true", { timeout: timeoutMs, polling: 250 });
  return { page, problems };
}

/**
 * Serves `root`, launches Chromium and runs `body({ browser, url, failures })`; then prints the
 * failures and exits non-zero, or prints `ok: ${okMessage}`.
 */
export async function check(name, root, okMessage, body) {
  const failures = [];
  const { server, url } = await serve(root);
  const browser = await launch();
  try {
    await body({ browser, url, failures });
  } catch (e) {
    failures.push(String(e?.stack ?? e));
  } finally {
    await browser.close();
    server.close();
  }
  if (failures.length) {
    console.error(`FAIL ${name}:\n  ${failures.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`ok: ${okMessage}`);
}
