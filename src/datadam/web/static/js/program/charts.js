// Charts of the program office pages (dashboard, project drill-down, scorecards), drawn with
// the vendored Chart.js from the JSON the page carries. Each drawn canvas gets
// data-ready="true", which the browser tests wait for.
import { readJson } from "../manage/widgets.js";

function colours() {
  const styles = getComputedStyle(document.documentElement);
  const pick = (name, fallback) => styles.getPropertyValue(name).trim() || fallback;
  return {
    primary: pick("--primary", "#0b57d0"),
    muted: pick("--muted", "#4d5560"),
    warn: pick("--warning", "#b45309"),
    ok: pick("--success", "#1e7a3c"),
  };
}

const BASE = { animation: false, maintainAspectRatio: false, responsive: true };

function draw(canvas, config) {
  const chart = new window.Chart(canvas, config);
  canvas.dataset.ready = "true";
  return chart;
}

function labelsChart(canvas, data, names, c) {
  return draw(canvas, {
    type: "bar",
    data: {
      labels: data.days.map((d) => d.slice(5)),
      datasets: [{ label: names.labels, data: data.labels, backgroundColor: c.primary }],
    },
    options: { ...BASE, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

function payChart(canvas, data, names, c) {
  return draw(canvas, {
    type: "bar",
    data: {
      labels: data.periods,
      datasets: [
        { label: names.earnings, data: data.earnings, backgroundColor: c.primary, stack: "pay" },
        { label: names.topUps, data: data.top_ups, backgroundColor: c.warn, stack: "pay" },
      ],
    },
    options: { ...BASE, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
}

function qualityChart(canvas, data, names, c) {
  return draw(canvas, {
    type: "bar",
    data: {
      labels: data.projects,
      datasets: [
        { label: names.progress, data: data.progress, backgroundColor: c.primary },
        { label: names.passRate, data: data.pass_rate, backgroundColor: c.ok },
        { label: names.gold, data: data.gold, backgroundColor: c.muted },
      ],
    },
    options: { ...BASE, indexAxis: "y", scales: { x: { min: 0, max: 100 } } },
  });
}

function rankingChart(canvas, data, names, c) {
  return draw(canvas, {
    type: "bar",
    data: {
      labels: data.organizations,
      datasets: [
        { label: names.score, data: data.scores, backgroundColor: c.primary },
        { label: names.atMinimum, data: data.at_minimum, backgroundColor: c.ok },
      ],
    },
    options: { ...BASE, indexAxis: "y", scales: { x: { min: 0, max: 100 } } },
  });
}

const KINDS = { labels: labelsChart, pay: payChart, quality: qualityChart, ranking: rankingChart };

function drawAll() {
  const data = readJson("chart-data");
  const strings = document.getElementById("chart-strings");
  if (!data || !strings || !window.Chart) return;
  const c = colours();
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const kind = KINDS[canvas.dataset.chart];
    if (kind) kind(canvas, data, strings.dataset, c);
  }
}

drawAll();
