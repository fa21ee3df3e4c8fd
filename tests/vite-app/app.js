// The checks both pages run; `window.result` holds what they found, `window.done` says they
// finished.
export async function run(init, Gpu) {
  const status = document.getElementById("status");
  const result = { errors: [] };
  try {
    await init();
    const gpu = await Gpu.create();
    const t = gpu.tensor(new Int32Array([1, -2, 3, 16777217]), [2, 2]);
    const f = t.cast("float32");
    result.float32 = Array.from(await f.data());
    const h = t.cast("float16");
    result.float16Bits = Array.from(new Uint16Array((await h.data()).buffer));
    const blob = await gpu.save("npy", { t });
    const back = await gpu.load(blob, "t.npy");
    result.reloaded = Array.from(await back[""].data());
    result.shape = back[""].shape;
    for (const x of [t, f, h, back[""]]) x.dispose();
    result.memory = gpu.memory();
  } catch (e) {
    result.errors.push(String(e?.stack ?? e));
  }
  window.result = result;
  status.textContent = result.errors.length ? "failed" : "done";
  window.done = true;
}
