// The quality page: daily trends of agreement, gold accuracy and inspection pass rate
// (Chart.js, vendored). The same numbers are in the table under the chart.
import { readJson } from "../manage/widgets.js";

function drawTrends() {
  const canvas = document.getElementById("quality-chart");
  const data = readJson("quality-data");
  if (!canvas || !data || !window.Chart) return;
  const names = document.getElementById("quality-strings").dataset;
  const styles = getComputedStyle(document.documentElement);
  const colours = [
    styles.getPropertyValue("--primary").trim() || "#0b57d0",
    "#b3261e",
    styles.getPropertyValue("--muted").trim() || "#4d5560",
  ];
  const series = [
    [names.agreement, data.agreement],
    [names.gold, data.gold],
    [names.inspection, data.inspection],
  ];
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: data.days.map((day) => day.slice(5)),
      datasets: series.map(([label, values], i) => ({
        label,
        data: values,
        borderColor: colours[i],
        backgroundColor: colours[i],
        spanGaps: true,
        tension: 0.2,
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      responsive: true,
      interaction: { mode: "index", intersect: false },
      scales: { y: { min: 0, max: 1 } },
    },
  });
  canvas.dataset.ready = "true";
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", drawTrends);
} else {
  drawTrends();
}
