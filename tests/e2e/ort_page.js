// ONNX Runtime Web on tensorbridge's GPUDevice (ort.env.webgpu.adapter = gpu.sharedAdapter()),
// running tests/fixtures/onnx/interop.onnx: toOrt for ORT's seven GPU dtypes (ORT reads
// tensorbridge's buffers), fromOrt on ORT's GPU outputs, a MatMul, and the lifetime rules.
// `?mode=env` and `?mode=session` instead record what ORT's native WebGPU EP does with
// tensorbridge's device, and `?mode=default-env` what the default build does with
// `env.webgpu.device`. Reports in window.result; window.done at the end.
import init, { Gpu } from "/web/pkg/tensorbridge.js";

const failures = [];
const report = {};
const check = (ok, what) => { if (!ok) failures.push(what); };
const same = (a, b) => a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]) || x === b[i]);
const MODEL = "/tests/fixtures/onnx/interop.onnx";

// x_<dtype> inputs (7 elements: the last u32 word of uint8 and bool is part padding), chosen to
// be exact in float32 so Cast(x -> float32 -> x) gives them back.
const INPUTS = {
  float32: [Float32Array, [0.5, -1.25, 3, 1e-3, -0, 16777216, -7]],
  float16: [null, [0.5, -1.25, 3, 65504, -0, 2048, -7]],
  int32: [Int32Array, [0, -1, 2147483520, -2147483648, 7, 100, -3]],
  int64: [BigInt64Array, [0n, -1n, 2n ** 40n, -(2n ** 53n), 7n, 100n, -3n]],
  uint32: [Uint32Array, [0, 1, 4294967040, 65536, 7, 100, 3]],
  uint8: [Uint8Array, [0, 1, 255, 128, 7, 100, 3]],
  bool: [Uint8Array, [1, 0, 1, 1, 0, 0, 1]],
};
const A = Float32Array.from([1, 2, -3, 0.5, 4, -1]);
const B = Float32Array.from({ length: 12 }, (_, i) => (i % 5) - 2);
const C = Float32Array.from([0.25, -1, 2, 3]);
function matmulAdd() {
  const y = new Float32Array(8);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) {
    let s = 0; for (let k = 0; k < 3; k++) s += A[i * 3 + k] * B[k * 4 + j];
    y[i * 4 + j] = s + C[j];
  }
  return y;
}

/** tensorbridge tensors for every model input; float16 is made by a cast on the GPU. */
function inputs(gpu) {
  const t = { a: gpu.tensor(A, [2, 3]), b: gpu.tensor(B, [3, 4]), c: gpu.tensor(C, [4]) };
  for (const [name, [Ctor, vals]] of Object.entries(INPUTS)) {
    t[`x_${name}`] = Ctor ? gpu.tensor(Ctor.from(vals), [7], name)
                          : gpu.tensor(Float32Array.from(vals), [7]).cast(name);
  }
  return t;
}

const feeds = (tensors) => Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.toOrt(ort)]));

/** Checks a run's outputs through fromOrt; returns nothing, records failures. */
async function checkOutputs(gpu, out, what) {
  const y = gpu.fromOrt(out.y);
  check(out.y.location === "gpu-buffer", `${what}: y is on ${out.y.location}`);
  check(same(await y.data(), matmulAdd()), `${what}: y = ${await y.data()}, expected ${matmulAdd()}`);
  y.dispose();
  for (const [name, [Ctor, exact]] of Object.entries(INPUTS)) {
    const vals = Ctor ? Array.from(Ctor.from(exact)) : exact; // as stored (float32 rounds 1e-3)
    // float16 goes through an Identity (see make_interop.py); the others through two Casts.
    if (name !== "float16") {
      const f = gpu.fromOrt(out[`f_${name}`]);
      const wantF = Float32Array.from(vals, Number);
      check(same(await f.data(), wantF), `${what}: ORT read x_${name} as ${await f.data()}, expected ${wantF}`);
      f.dispose();
    }
    const o = gpu.fromOrt(out[`o_${name}`]);
    check(out[`o_${name}`].location === "gpu-buffer", `${what}: o_${name} is on ${out[`o_${name}`].location}`);
    check(o.dtype === name, `${what}: o_${name} came back as ${o.dtype}`);
    const got = Array.from(await o.data(), (v) => (typeof v === "bigint" ? v : Number(v)));
    check(same(got, vals), `${what}: o_${name} = ${got}, expected ${vals}`);
    o.dispose();
  }
}

/** A session on tensorbridge's device, with ORT's outputs left on the GPU. */
async function session(gpu) {
  ort.env.webgpu.adapter = gpu.sharedAdapter();
  return ort.InferenceSession.create(MODEL, {
    executionProviders: ["webgpu"],
    preferredOutputLocation: "gpu-buffer",
  });
}

async function shared(gpu) {
  const s = await session(gpu);
  report.sameDevice = (await ort.env.webgpu.device) === gpu.device;
  check(report.sameDevice, "ORT is not on tensorbridge's device");

  // ORT reads tensorbridge's buffers, and its outputs come back.
  const t = inputs(gpu);
  const fed = feeds(t);
  check(fed.x_uint8.location === "gpu-buffer" && fed.x_uint8.type === "uint8", "toOrt uint8: " + fed.x_uint8.type);
  const out = await s.run(fed);
  await checkOutputs(gpu, out, "run");
  for (const v of Object.values(out)) v.dispose();

  // getData() on a toOrt tensor reads back through tensorbridge.
  for (const [name, [Ctor, vals]] of Object.entries(INPUTS)) {
    const got = await fed[`x_${name}`].getData();
    const want = await t[`x_${name}`].data();
    check(same(got, want), `getData ${name}: ${got}, expected ${want}`);
    if (Ctor) check(same(got, Ctor.from(vals)), `getData ${name}: ${got}, expected ${vals}`);
  }

  // Lifetimes: dispose every tensorbridge tensor first and churn the pool; ORT still reads the
  // right values. Then dispose the ORT tensors, and the memory goes back.
  const held = gpu.memory().numBytes;
  for (const v of Object.values(t)) v.dispose();
  check(gpu.memory().numBytes === held, "disposing the tensorbridge side freed memory ORT still uses");
  for (let i = 0; i < 30; i++) gpu.tensor(Float32Array.from({ length: 64 }, () => 9), [64]).dispose();
  const out2 = await s.run(fed);
  await checkOutputs(gpu, out2, "run after the tensorbridge tensors were disposed");
  for (const v of Object.values(out2)) v.dispose();
  for (const v of Object.values(fed)) v.dispose();
  check(gpu.memory().numTensors === 0, `tensors left alive after both sides were disposed: ${gpu.memory().numTensors}`);
  check(gpu.memory().numBytes === 0, `bytes held after both sides were disposed: ${gpu.memory().numBytes}`);

  // The other way: dispose the ORT tensor first, and tensorbridge still reads its own.
  const z = gpu.tensor(Float32Array.from([5, 6, 7]), [3]);
  z.toOrt(ort).dispose();
  check(same(await z.data(), [5, 6, 7]), "tensorbridge tensor after its ORT tensor was disposed");
  z.dispose();

  // Casts: dtypes ORT lacks on the GPU, and an explicit dtype.
  const h = gpu.tensor(Float32Array.from([1.5, -2, 3]), [3]).cast("bfloat16");
  const hf = h.toOrt(ort);
  check(hf.type === "float32" && same(await hf.getData(), [1.5, -2, 3]), `bfloat16 -> ${hf.type} ${await hf.getData()}`);
  const i8 = gpu.tensor(Int8Array.from([-128, 127, 0]), [3]);
  const i8o = i8.toOrt(ort);
  check(i8o.type === "int32" && same(await i8o.getData(), [-128, 127, 0]), `int8 -> ${i8o.type}`);
  const as16 = gpu.tensor(Float32Array.from([0.5, 2]), [2]).toOrt(ort, { dtype: "float16" });
  check(as16.type === "float16" && same(Array.from(await as16.getData(), Number), [0.5, 2]), `explicit float16 gave ${as16.type}`);
  const wide = gpu.tensor(new BigUint64Array([1n, 2n]), [2]);
  try { wide.toOrt(ort); failures.push("uint64 without a dtype was accepted"); } catch (e) { check(/int64/.test(e.message), e.message); }
  try { i8.toOrt(ort, { dtype: "bfloat16" }); failures.push("toOrt bfloat16 was accepted"); } catch (e) { check(e instanceof TypeError, String(e)); }
  for (const x of [hf, i8o, as16]) x.dispose();
  for (const x of [h, i8, wide]) x.dispose();

  // fromOrt on a CPU tensor, and bad input.
  const cpu = gpu.fromOrt(new ort.Tensor("int64", new BigInt64Array([-5n, 2n ** 62n]), [2]));
  check(cpu.dtype === "int64" && same(await cpu.data(), [-5n, 2n ** 62n]), "fromOrt cpu int64");
  cpu.dispose();
  try { gpu.fromOrt(new ort.Tensor("string", ["a"], [1])); failures.push("a string tensor was accepted"); } catch (e) { check(e instanceof TypeError, String(e)); }
  await s.release();
}

/**
 * Records whether ORT runs on tensorbridge's device when asked the ways it documents:
 * `env.webgpu.device` (either build) or the native EP's session option, and what a run on
 * tensorbridge's buffers then does.
 */
async function elsewhere(gpu, how) {
  const ep = { name: "webgpu" };
  if (how === "session") ep.device = gpu.device;
  else ort.env.webgpu.device = gpu.device;
  const s = await ort.InferenceSession.create(MODEL, { executionProviders: [ep] });
  report.sameDevice = (await ort.env.webgpu.device) === gpu.device;
  try {
    const out = await s.run(feeds(inputs(gpu)));
    const y = await out.y.getData();
    report.runError = null;
    report.right = same(y, matmulAdd());
  } catch (e) {
    report.runError = String(e?.message ?? e);
  }
}

let ort;
async function main() {
  // "onnxruntime-web" in a browser is ort.bundle.min.mjs (the JSEP build); the native WebGPU EP
  // is "onnxruntime-web/webgpu".
  const mode = new URLSearchParams(location.search).get("mode");
  const dist = "/tests/e2e/node_modules/onnxruntime-web/dist/";
  const nativeEp = mode === "env" || mode === "session";
  ort = await import(dist + (nativeEp ? "ort.webgpu.bundle.min.mjs" : "ort.bundle.min.mjs"));
  ort.env.wasm.numThreads = 1;
  await init();
  const gpu = await Gpu.create();
  report.ortVersion = ort.env.versions?.web;
  if (mode) await elsewhere(gpu, mode);
  else await shared(gpu);
}

main()
  .catch((e) => failures.push(String(e?.stack ?? e)))
  .finally(() => {
    window.result = { failures, report };
    document.getElementById("status").textContent = failures.length ? "failed" : "done";
    window.done = true;
  });
