// A web app's use of the npm package: import by name, upload, cast, read back, load a file and
// save one. tests/e2e/package.mjs builds this with `vite build` and runs it in headless Chromium;
// the same checks run from a plain <script type="module"> page (plain.html).
import { run } from "./app.js";
import init, { Gpu } from "tensorbridge";

run(init, Gpu);
