// The inspector's entry page: the worker's answer, read-only, and J/K (or arrows) to move.
import { readJson, renderControls } from "./widgets.js";

const boot = readJson("inspect-boot") || {};
const texts = document.getElementById("editor-strings").dataset;

renderControls(document.getElementById("answer-view"), {
  schema: boot.schema,
  payload: boot.payload,
  result: boot.result,
  readonly: true,
  itemId: boot.item_id,
  strings: boot.strings || {},
  noWidgetText: texts.noWidget,
});

function typing(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
  const key = event.key.toLowerCase();
  const id = key === "j" || key === "arrowright" ? "next-link" : key === "k" || key === "arrowleft" ? "previous-link" : null;
  const link = id && document.getElementById(id);
  if (link) {
    event.preventDefault();
    window.location.assign(link.href);
  }
});

// The correction form: the same widgets, editable, starting from the worker's answer, mounted
// only when the inspector opens it (so no editing hotkeys are live while just reading). Each
// change is written to the form's hidden `result` field as JSON.
const correctDetails = document.getElementById("correct-details");
const correctField = document.getElementById("correct-result");
if (correctDetails && correctField) {
  let mounted = false;
  correctDetails.addEventListener("toggle", () => {
    if (!correctDetails.open || mounted) return;
    mounted = true;
    const corrected = { ...(boot.result || {}) };
    renderControls(document.getElementById("correct-view"), {
      schema: boot.schema,
      payload: boot.payload,
      result: boot.result,
      readonly: false,
      itemId: boot.item_id,
      strings: boot.strings || {},
      noWidgetText: texts.noWidget,
      onChange: (name, value) => {
        corrected[name] = value;
        correctField.value = JSON.stringify(corrected);
      },
    });
  });
}
