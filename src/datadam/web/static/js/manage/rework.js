// The rework page: the labeling widgets, editable, starting from the returned answer. Changes go
// to the form's hidden `result` field; the seconds the page was visible go to `active_seconds`
// (the server caps them by its own clock).
import { readJson, renderControls } from "./widgets.js";

const boot = readJson("rework-boot") || {};
const texts = document.getElementById("editor-strings").dataset;
const field = document.getElementById("rework-result");
const seconds = document.getElementById("rework-seconds");
const answer = { ...(boot.result || {}) };

renderControls(document.getElementById("rework-view"), {
  schema: boot.schema,
  payload: boot.payload,
  result: boot.result,
  readonly: false,
  itemId: boot.item_id,
  strings: boot.strings || {},
  noWidgetText: texts.noWidget,
  onChange: (name, value) => {
    answer[name] = value;
    field.value = JSON.stringify(answer);
  },
});

let visibleMs = 0;
let since = document.visibilityState === "visible" ? performance.now() : null;
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") since = performance.now();
  else if (since !== null) {
    visibleMs += performance.now() - since;
    since = null;
  }
});
document.getElementById("rework-form").addEventListener("submit", () => {
  const total = visibleMs + (since !== null ? performance.now() - since : 0);
  seconds.value = String(Math.round(total / 100) / 10);
});
