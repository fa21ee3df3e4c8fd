// Runs web/dev/stream.html headless and prints the numbers. Dev only, not part of the tests:
//   (cd tests/e2e && npm ci) && bash web/build.sh && node web/dev/stream.mjs
// Writes target/stream-bench/w.safetensors (128 MiB: 8 bfloat16 arrays of 8M elements) first.
import { join, resolve } from "node:path";
import { runDevPage } from "./run.mjs";
import { writeWeights } from "./weights_file.mjs";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
// bfloat16 bits of small numbers of varied sign.
writeWeights(join(ROOT, "target/stream-bench/w.safetensors"), "BF16", (m) => 0x3c00 + m);

await runDevPage("web/dev/stream.html");
