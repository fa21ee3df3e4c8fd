// The example: weights from a .safetensors file through tensorbridge into a TF.js model, and
// the model's output back into tensorbridge, all on one GPUDevice. window.result holds what the
// page showed (for tests/e2e/example.mjs); window.done is set at the end.
import init, { Gpu } from "../../pkg/tensorbridge.js";

const weights = new URLSearchParams(location.search).get("weights") ?? "mlp.safetensors";

async function main() {
  await init();
  const gpu = await Gpu.create();

  // TF.js's WebGPU backend on tensorbridge's device (its kernels are registered as "webgpu").
  tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => new tf.WebGPUBackend(gpu.device));
  await tf.setBackend("webgpu");

  // The file streams onto the GPU; each array becomes a float32 tf.Tensor, cast on the GPU,
  // as soon as it has arrived.
  const p = {};
  await gpu.load(weights, undefined, {
    onArray: (name, t) => {
      p[name] = t.toTfjs(tf, { dtype: "float32" });
      t.dispose();
    },
  });

  // The model, in TF.js.
  const probs = tf.tidy(() => {
    const h = tf.relu(tf.add(tf.matMul(p.x, p.w1), p.b1));
    return tf.softmax(tf.add(tf.matMul(h, p.w2), p.b2));
  });
  const classes = tf.argMax(probs, 1);

  // Back to tensorbridge on the GPU: summarise and save without reading through TF.js.
  const out = gpu.fromTfjs(probs);
  const summary = await out.summary();
  const blob = await gpu.save("npy", { probs: out });
  const link = document.getElementById("download");
  link.href = URL.createObjectURL(blob);
  link.hidden = false;

  // The table reads the small results once, for display.
  const values = await out.data();
  const best = await classes.data();
  const body = document.querySelector("#results tbody");
  const [rows, cols] = out.shape;
  for (let i = 0; i < rows; i++) {
    const tr = document.createElement("tr");
    for (const v of [i, best[i], values[i * cols + best[i]].toFixed(4)]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.append(td);
    }
    body.append(tr);
  }
  document.getElementById("summary").textContent =
    `probabilities: ${summary.count} values, min ${summary.min.toFixed(4)}, max ${summary.max.toFixed(4)}, ` +
    `row sums ${summary.sum.toFixed(3)} in all (one per input)`;

  window.result = {
    shape: out.shape,
    probs: Array.from(values),
    classes: Array.from(best),
    summary,
    npy: Array.from(new Uint8Array(await blob.arrayBuffer())),
  };
  for (const t of [...Object.values(p), probs, classes]) t.dispose();
  out.dispose();
  window.result.memory = gpu.memory();
  document.getElementById("status").textContent = "done";
}

main()
  .catch((e) => {
    window.error = String(e?.stack ?? e);
    const box = document.getElementById("errors");
    box.hidden = false;
    box.querySelector("pre").textContent = window.error;
    document.getElementById("status").textContent = "failed";
  })
  .finally(() => { window.done = true; });
