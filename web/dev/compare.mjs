// Runs web/dev/compare.html headless and prints the numbers. Dev only, not part of the tests:
//   (cd tests/e2e && npm ci) && (cd web/dev && npm install) && bash web/build.sh
//   node web/dev/compare.mjs
import { runDevPage } from "./run.mjs";

await runDevPage("web/dev/compare.html");
