// The project page: the progress chart (Chart.js, vendored) and the import upload with a
// progress bar and the list of problems of a refused file.
import { csrfToken } from "../app/common.js";
import { readJson } from "./widgets.js";

function bucketLabel(iso, unit) {
  // "2026-03-05T14:00:00+00:00" -> "03-05" by day, "03-05 14:00" by hour
  const day = iso.slice(5, 10);
  return unit === "hour" ? `${day} ${iso.slice(11, 16)}` : day;
}

function drawChart() {
  const canvas = document.getElementById("progress-chart");
  const data = readJson("progress-data");
  if (!canvas || !data || !window.Chart) return;
  const names = document.getElementById("chart-strings").dataset;
  const styles = getComputedStyle(document.documentElement);
  const accent = styles.getPropertyValue("--primary").trim() || "#0b57d0";
  const ink = styles.getPropertyValue("--muted").trim() || "#4d5560";
  const chart = new window.Chart(canvas, {
    data: {
      labels: data.buckets.map((iso) => bucketLabel(iso, data.unit)),
      datasets: [
        { type: "bar", label: names.labels, data: data.counts, backgroundColor: accent, yAxisID: "y" },
        {
          type: "line",
          label: names.total,
          data: data.cumulative,
          borderColor: ink,
          backgroundColor: ink,
          pointRadius: 0,
          tension: 0.2,
          yAxisID: "y1",
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      responsive: true,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { beginAtZero: true, position: "left", ticks: { precision: 0 } },
        y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ticks: { precision: 0 } },
      },
    },
  });
  canvas.dataset.ready = "true";
  return chart;
}

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (_m, key) => String(values[key] ?? ""));
}

function setupImport() {
  const form = document.getElementById("import-form");
  if (!form) return;
  const fileInput = document.getElementById("import-file");
  const button = document.getElementById("import-button");
  const progressBox = document.getElementById("import-progress");
  const bar = document.getElementById("import-bar");
  const barLabel = document.getElementById("import-bar-label");
  const result = document.getElementById("import-result");
  const texts = document.getElementById("import-strings").dataset;

  function message(kind, text) {
    const p = document.createElement("p");
    p.className = `notice ${kind === "ok" ? "notice-ok" : "notice-error"}`;
    p.textContent = text;
    return p;
  }

  function showRefused(error) {
    const problems = Array.isArray(error.errors) && error.errors.length ? error.errors : [error];
    const list = document.createElement("ul");
    list.className = "import-errors";
    list.id = "import-errors";
    for (const problem of problems) {
      const li = document.createElement("li");
      if (problem.field) {
        const code = document.createElement("code");
        code.textContent = problem.field;
        li.append(code, " ");
      }
      li.append(problem.message || String(problem.code || ""));
      list.append(li);
    }
    const box = message("error", texts.refused);
    box.setAttribute("role", "alert");
    result.replaceChildren(box, list);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    const body = new FormData();
    body.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.url);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    button.disabled = true;
    result.replaceChildren();
    progressBox.hidden = false;
    bar.value = 0;
    barLabel.textContent = texts.uploading;
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.upload.addEventListener("load", () => {
      bar.value = 100;
      barLabel.textContent = texts.processing;
      bar.removeAttribute("value"); // indeterminate while the server checks the rows
    });
    xhr.addEventListener("load", () => {
      button.disabled = false;
      progressBox.hidden = true;
      const data = xhr.response || {};
      if (xhr.status === 201) {
        const done = message(
          "ok",
          format(texts.done, { imported: data.imported, rows: data.rows_total, duplicates: data.duplicates }),
        );
        done.id = "import-done";
        const again = document.createElement("a");
        again.href = window.location.pathname;
        again.textContent = texts.reload;
        done.append(" ", again);
        result.replaceChildren(done);
        form.reset();
      } else if (xhr.status === 422 && data.error) {
        showRefused(data.error);
      } else {
        const error = (data && data.error) || {};
        result.replaceChildren(message("error", `${texts.failed} ${error.message || xhr.status}`));
      }
    });
    xhr.addEventListener("error", () => {
      button.disabled = false;
      progressBox.hidden = true;
      result.replaceChildren(message("error", texts.network));
    });
    xhr.send(body);
  });
}

drawChart();
setupImport();
