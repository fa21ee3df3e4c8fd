// The file inspector: a dropped or chosen .npy/.npz/.safetensors file (or ?inspect=URL) is
// streamed to the GPU with gpu.load, and each array's dtype, shape, min, max, mean and a 32-bin
// histogram, all computed on the GPU, are shown. `window.inspected` holds the numbers and
// `window.inspectDone` turns true after each file, for tests.

const BINS = 32;
const SVG = "http://www.w3.org/2000/svg";

window.inspected = null;
window.inspectDone = false;

const fmt = (x) => {
  if (typeof x === "bigint") return x.toString();
  if (typeof x !== "number") return String(x);
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString("en");
  if (x === 0 || (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6)) return String(Number(x.toPrecision(6)));
  return x.toExponential(4);
};

/** A small bar chart of histogram counts. */
function histogramSvg(counts) {
  const svg = document.createElementNS(SVG, "svg");
  const W = 160, H = 36;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  svg.setAttribute("role", "img");
  const max = Math.max(1, ...counts);
  const w = W / counts.length;
  counts.forEach((c, i) => {
    const h = c === 0 ? 0 : Math.max(1, (c / max) * (H - 2));
    const r = document.createElementNS(SVG, "rect");
    r.setAttribute("x", i * w + 0.5);
    r.setAttribute("y", H - h);
    r.setAttribute("width", Math.max(w - 1, 1));
    r.setAttribute("height", h);
    r.setAttribute("fill", "#4c72b0");
    const title = document.createElementNS(SVG, "title");
    title.textContent = `bin ${i}: ${c}`;
    r.append(title);
    svg.append(r);
  });
  return svg;
}

/** Summary and histogram of one tensor, on the GPU. */
async function describe(name, t) {
  const row = { name, dtype: t.dtype, shape: t.shape, count: t.size };
  if (t.size > 0) {
    const s = await t.summary();
    Object.assign(row, { min: s.min, max: s.max, mean: s.mean, nanCount: s.nanCount });
    // np.histogram's default range is min to max, which must be finite.
    if (Number.isFinite(s.min) && Number.isFinite(s.max)) {
      const h = await t.histogram(BINS);
      row.counts = Array.from(h.counts, Number);
    }
  }
  return row;
}

function show(rows) {
  const body = document.querySelector("#arrays tbody");
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement("tr");
    const cells = [r.name === "" ? "(the array)" : r.name, r.dtype, `[${r.shape.join(", ")}]`,
      r.min == null ? "–" : fmt(r.min), r.max == null ? "–" : fmt(r.max),
      r.mean == null ? "–" : fmt(r.mean)];
    for (const v of cells) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    const td = document.createElement("td");
    if (r.counts) td.append(histogramSvg(r.counts));
    else if (r.count > 0) td.textContent = "(range not finite)";
    tr.append(td);
    return tr;
  }));
  document.getElementById("arrays").hidden = rows.length === 0;
}

/** Loads `source` (a File or a URL) and shows every array in it. */
async function inspect(gpuReady, source, name) {
  const status = document.getElementById("inspect-status");
  window.inspectDone = false;
  status.textContent = `loading ${name}…`;
  const t0 = performance.now();
  let arrays = {};
  try {
    const gpu = await gpuReady;
    arrays = await gpu.load(source, name, { bf16: true }); // ml_dtypes bfloat16 .npy
    const loaded = performance.now() - t0;
    const rows = [];
    for (const [key, t] of Object.entries(arrays)) rows.push(await describe(key, t));
    window.inspected = rows;
    show(rows);
    status.textContent = `${name}: ${rows.length} arrays, loaded in ${loaded.toFixed(1)} ms`;
  } catch (e) {
    window.inspected = { error: String(e?.message ?? e) };
    show([]);
    status.textContent = `${name}: ${e?.message ?? e}`;
  } finally {
    for (const t of Object.values(arrays)) t.dispose();
    window.inspectDone = true;
  }
}

/** Wires the drop zone, the file chooser and ?inspect=URL to the inspector. */
export function setUpInspector(gpuReady) {
  const drop = document.getElementById("drop");
  const input = document.getElementById("file");
  input.addEventListener("change", () => {
    const f = input.files[0];
    if (f) inspect(gpuReady, f, f.name);
  });
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (f) inspect(gpuReady, f, f.name);
  });
  const url = new URLSearchParams(location.search).get("inspect");
  if (url) inspect(gpuReady, url, url.split("/").pop());
}
