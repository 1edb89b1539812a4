// The schema editor: checks the schema on the server as the manager types, names the field
// with the problem, and previews the labeling page with the widgets and an example answer.
import { apiFetch } from "../app/common.js";
import { destroyAll, readJson, renderControls, renderPayload } from "./widgets.js";

const form = document.getElementById("project-form");
const schemaBox = document.getElementById("schema");
const payloadBox = document.getElementById("sample-payload");
const statusBox = document.getElementById("schema-status");
const previewItem = document.getElementById("preview-item");
const previewControls = document.getElementById("preview-controls");
const picker = document.querySelector("[data-example-picker]");
const loadLink = document.getElementById("example-load");
const texts = document.getElementById("editor-strings").dataset;
const widgetStrings = readJson("widget-strings") || {};

let handles = [];
let sequence = 0;
let inFlight = null;
let timer = null;

function showStatus(kind, message, field) {
  statusBox.replaceChildren();
  const p = document.createElement("p");
  p.className = kind === "error" ? "field-error" : kind === "ok" ? "field-ok" : "hint";
  if (kind === "error") p.dataset.schemaError = "";
  if (field) {
    const code = document.createElement("code");
    code.className = "error-field";
    code.textContent = field;
    p.append(code, " ");
  }
  p.append(message);
  statusBox.append(p);
  if (kind === "error") schemaBox.setAttribute("aria-invalid", "true");
  else schemaBox.removeAttribute("aria-invalid");
}

async function check() {
  const mine = ++sequence;
  if (inFlight) inFlight.abort();
  inFlight = new AbortController();
  showStatus("info", texts.checking);
  let body;
  try {
    const response = await apiFetch("/manage/schema/preview", {
      body: { schema: schemaBox.value, payload: payloadBox.value },
      signal: inFlight.signal,
    });
    body = await response.json();
  } catch (error) {
    if (error.name === "AbortError") return;
    if (mine === sequence) showStatus("info", texts.unreachable);
    return;
  }
  if (mine !== sequence) return;
  if (!body.ok) {
    const problem = body.error || {};
    showStatus("error", `${texts.problem} ${problem.message || ""}`, problem.field);
    return;
  }
  showStatus("ok", texts.ok);
  destroyAll(handles);
  renderPayload(previewItem, body.payload);
  handles = await renderControls(previewControls, {
    schema: body.schema,
    payload: body.payload,
    result: body.result,
    strings: widgetStrings,
    noWidgetText: texts.noWidget,
  });
}

function soon() {
  clearTimeout(timer);
  timer = setTimeout(check, 350);
}

async function loadExample(name) {
  const response = await fetch(`/manage/schema/examples/${encodeURIComponent(name)}`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) return;
  const body = await response.json();
  schemaBox.value = body.text;
  check();
}

schemaBox.addEventListener("input", soon);
payloadBox.addEventListener("input", soon);
picker.addEventListener("change", () => {
  loadLink.href = `/manage/projects/new?example=${encodeURIComponent(picker.value)}`;
});
loadLink.addEventListener("click", (event) => {
  event.preventDefault();
  loadExample(picker.value);
});
form.addEventListener("submit", () => clearTimeout(timer));
check();
