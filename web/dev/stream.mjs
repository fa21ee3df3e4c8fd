// Runs web/dev/stream.html headless and prints the numbers. Dev only, not part of the tests:
//   (cd tests/e2e && npm ci) && bash web/build.sh && node web/dev/stream.mjs
// Writes target/stream-bench/w.safetensors (128 MiB: 8 bfloat16 arrays of 8M elements) first.
import { mkdirSync, openSync, writeSync, closeSync } from "node:fs";
import { join, resolve } from "node:path";
import { runDevPage } from "./run.mjs";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const dir = join(ROOT, "target/stream-bench");
mkdirSync(dir, { recursive: true });
const ARRAYS = 8, ELEMS = 8 << 20;
const header = {};
for (let i = 0; i < ARRAYS; i++) {
  header[`layer${i}.weight`] = { dtype: "BF16", shape: [ELEMS / 1024, 1024], data_offsets: [i * ELEMS * 2, (i + 1) * ELEMS * 2] };
}
let json = JSON.stringify(header);
json += " ".repeat((8 - (json.length % 8)) % 8);
const fd = openSync(join(dir, "w.safetensors"), "w");
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(json.length));
writeSync(fd, len);
writeSync(fd, Buffer.from(json));
const block = new Uint16Array(ELEMS);
for (let i = 0; i < ARRAYS; i++) {
  // bfloat16 bits of small numbers of varied sign.
  for (let k = 0; k < ELEMS; k++) block[k] = 0x3c00 + ((k * 2654435761 + i) >>> 20) % 0x800 | (k & 1) << 15;
  writeSync(fd, new Uint8Array(block.buffer));
}
closeSync(fd);

await runDevPage("web/dev/stream.html");
