// TF.js on tensorbridge's GPUDevice: toTfjs for every dtype, fromTfjs, a TF.js matMul between
// them, and the lifetime rules. Reports failures in window.result; window.done at the end.
import init, { Gpu } from "/web/pkg/tensorbridge.js";

const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const same = (a, b) => a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]) || x === b[i]);

async function main() {
  await init();
  const gpu = await Gpu.create();
  // TF.js's WebGPU kernels are registered under the name "webgpu": replace that backend with
  // one on tensorbridge's device.
  tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => new tf.WebGPUBackend(gpu.device));
  await tf.setBackend("webgpu");
  check(tf.backend().device === gpu.device, "TF.js is not on tensorbridge's device");

  // Every dtype: TF.js sees the values (cast on the GPU where TF.js lacks the dtype).
  const vals = [0, 1, -2, 3, 100, -128, 127, 5];
  const cases = [
    ["float32", Float32Array.from(vals.map((x) => x + 0.25)), "float32"],
    ["float64", Float64Array.from(vals.map((x) => x + 0.5)), "float32"],
    ["float16", null, "float32"],
    ["bfloat16", null, "float32"],
    ["int32", Int32Array.from(vals), "int32"],
    ["int8", Int8Array.from(vals), "int32"],
    ["uint8", Uint8Array.from(vals.map((x) => x & 255)), "int32"],
    ["int16", Int16Array.from(vals), "int32"],
    ["uint16", Uint16Array.from(vals.map((x) => x & 0xffff)), "int32"],
    ["bool", Uint8Array.from(vals.map((x) => (x > 0 ? 1 : 0))), "bool"],
  ];
  for (const [dtype, data, tfDtype] of cases) {
    const src = data ?? Float32Array.from(vals);
    const base = gpu.tensor(src, [2, 4], data ? dtype : "float32");
    const t = data ? base : base.cast(dtype);
    const expected = t.cast(tfDtype === "bool" ? "bool" : tfDtype);
    const want = Array.from(await expected.data(), Number);
    expected.dispose();
    const tt = t.toTfjs(tf);
    check(tt.dtype === tfDtype, `${dtype}: tf dtype ${tt.dtype}`);
    check(JSON.stringify(tt.shape) === "[2,4]", `${dtype}: shape ${tt.shape}`);
    const got = Array.from(await tt.data(), Number);
    check(same(got, want), `${dtype}: TF.js sees ${got}, expected ${want}`);
    tt.dispose();
    if (t !== base) t.dispose();
    base.dispose();
  }
  // 64-bit and uint32 integers need an explicit dtype.
  const wide = gpu.tensor(new BigInt64Array([1n, -2n]), [2]);
  try { wide.toTfjs(tf); failures.push("int64 without a dtype was accepted"); } catch (e) { check(/fit/.test(e.message), e.message); }
  const wideF = wide.toTfjs(tf, { dtype: "float32" });
  check(same(await wideF.data(), [1, -2]), "int64 as float32");
  wideF.dispose(); wide.dispose();

  // fromTfjs gives back the bytes, float32, int32 and bool.
  for (const [x, dtype] of [[tf.tensor([1.5, -2.25, 3e10], [3], "float32"), "float32"],
                            [tf.tensor([7, -8, 2147483647], [3], "int32"), "int32"],
                            [tf.tensor([true, false, true], [3], "bool"), "bool"]]) {
    const t = gpu.fromTfjs(x);
    check(t.dtype === dtype, `fromTfjs dtype ${t.dtype}`);
    const want = Array.from(await x.data(), Number);
    check(same(Array.from(await t.data(), Number), want), `fromTfjs ${dtype}: ${await t.data()} vs ${want}`);
    x.dispose(); t.dispose();
  }

  // A TF.js op between them: matMul of tensorbridge tensors, read back through fromTfjs.
  const A = Float32Array.from({ length: 6 * 5 }, (_, i) => (i % 7) - 3);
  const B = Float32Array.from({ length: 5 * 4 }, (_, i) => (i % 5) * 0.5);
  const a = gpu.tensor(A, [6, 5]), b = gpu.tensor(B, [5, 4]);
  const c = tf.matMul(a.toTfjs(tf), b.toTfjs(tf));
  const back = gpu.fromTfjs(c);
  const got = await back.data();
  const want = new Float32Array(24);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) {
    let s = 0; for (let k = 0; k < 5; k++) s += A[i * 5 + k] * B[k * 4 + j];
    want[i * 4 + j] = s;
  }
  check(same(got, want), `matMul: ${got} vs ${want}`);

  // Lifetimes: dispose the tensorbridge side first, churn the pool, and TF.js still reads its
  // values; dispose the TF.js side first, and tensorbridge still reads its own.
  const x = gpu.tensor(Float32Array.from([1, 2, 3, 4]), [4]);
  const xt = x.toTfjs(tf);
  x.dispose();
  for (let i = 0; i < 20; i++) gpu.tensor(Float32Array.from([9, 9, 9, 9]), [4]).dispose();
  check(same(await xt.data(), [1, 2, 3, 4]), "tf.Tensor after the tensorbridge tensor was disposed");
  const y = gpu.tensor(Float32Array.from([5, 6]), [2]);
  const yt = y.toTfjs(tf);
  yt.dispose();
  check(same(await y.data(), [5, 6]), "tensorbridge tensor after the tf.Tensor was disposed");
  for (const t of [a, b, back, c, xt]) t.dispose();
  y.dispose();
  // toTfjs leaves nothing behind on tensorbridge's side once the tensorbridge tensors are gone.
  check(gpu.memory().numTensors === 0, `tensors left alive: ${JSON.stringify(gpu.memory())}`);
  try { gpu.fromTfjs({ dtype: "complex64" }); failures.push("a complex tensor was accepted"); } catch (e) { check(e instanceof TypeError, String(e)); }
}

main()
  .catch((e) => failures.push(String(e?.stack ?? e)))
  .finally(() => {
    window.result = { failures };
    document.getElementById("status").textContent = failures.length ? "failed" : "done";
    window.done = true;
  });
