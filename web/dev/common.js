// What the dev pages share: the error box, the median, and a results table row.

/** Shows `m` in the page's error box and records it in window.errors. */
export function fail(m) {
  window.errors.push(String(m));
  const box = document.getElementById("errors");
  box.hidden = false;
  box.querySelector("pre").textContent = window.errors.join("\n");
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Appends a row (name, median ms, min ms, every run) to #results. */
export function addTimesRow(name, ms) {
  const tr = document.createElement("tr");
  for (const v of [name, median(ms).toFixed(1), Math.min(...ms).toFixed(1), ms.map((x) => x.toFixed(0)).join(" ")]) {
    const td = document.createElement("td");
    td.textContent = v;
    tr.append(td);
  }
  document.querySelector("#results tbody").append(tr);
}
