// The 128 MiB .safetensors files the dev pages load: 8 arrays of 8M 2-byte elements (small
// finite numbers of varied sign), written under target/ once per run.
import { mkdirSync, openSync, writeSync, closeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Writes `path` with 8 arrays `layer<i>.weight` of `dtype` ("BF16" or "F16"), whose bits are
 * `bits(m) | sign` for m in [0, 0x800).
 */
export function writeWeights(path, dtype, bits) {
  const ARRAYS = 8, ELEMS = 8 << 20;
  const header = {};
  for (let i = 0; i < ARRAYS; i++) {
    header[`layer${i}.weight`] = { dtype, shape: [ELEMS / 1024, 1024], data_offsets: [i * ELEMS * 2, (i + 1) * ELEMS * 2] };
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "w");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(json));
  const block = new Uint16Array(ELEMS);
  for (let i = 0; i < ARRAYS; i++) {
    for (let k = 0; k < ELEMS; k++) block[k] = bits(((k * 2654435761 + i) >>> 20) % 0x800) | (k & 1) << 15;
    writeSync(fd, new Uint8Array(block.buffer));
  }
  closeSync(fd);
}
