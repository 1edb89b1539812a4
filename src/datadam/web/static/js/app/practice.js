// A training or qualification question: the labeling widgets for the answer, then the
// server's feedback. Training shows the correct answer (read-only widgets) and its
// explanation; a test shows nothing until the attempt ends, then the score.
// Everything is built with DOM APIs and textContent: item text and explanations are data.

import { apiFetch } from "./common.js";
import { readJson, renderControls, renderPayload, translator } from "../manage/widgets.js";

const boot = readJson("practice-boot") || {};
const t = translator(boot.strings || {});
const $ = (id) => document.getElementById(id);
const els = {
  form: $("practice-form"),
  item: $("practice-item"),
  controls: $("practice-controls"),
  submit: $("practice-submit"),
  message: $("practice-message"),
  feedback: $("practice-feedback"),
  title: $("feedback-title"),
  answer: $("feedback-answer"),
  explanation: $("feedback-explanation"),
  next: $("practice-next"),
};
const values = {};
const controls = (boot.schema && boot.schema.controls) || [];
for (const control of controls) values[control.name] = null;

function showMessage(text, kind = "info") {
  els.message.hidden = !text;
  els.message.className = `notice notice-${kind}`;
  els.message.textContent = text || "";
}

function isRequired(control) {
  if (typeof control.required === "boolean") return control.required;
  return control.type !== "text";
}

function percent(value) {
  return `${Math.round((value || 0) * 100)}%`;
}

async function showFeedback(body) {
  els.form.hidden = true;
  els.feedback.hidden = false;
  const attempt = body.attempt;
  if (body.purpose === "training") {
    els.title.textContent = body.correct ? t("Correct.") : t("Not quite. The correct answer:");
    els.feedback.dataset.correct = body.correct ? "1" : "0";
    await renderControls(els.answer, {
      schema: boot.schema, payload: boot.payload, result: body.answer || {}, readonly: true,
      itemId: boot.item_id, strings: boot.strings || {},
    });
    if (body.explanation) {
      els.explanation.hidden = false;
      els.explanation.textContent = body.explanation;
    }
  } else if (attempt) {
    els.title.textContent = attempt.passed
      ? t("You passed the test with %s.", percent(attempt.score))
      : t("You did not pass this time: %s.", percent(attempt.score));
    els.feedback.dataset.passed = attempt.passed ? "1" : "0";
  } else {
    els.title.textContent = t("Answer saved.");
  }
  els.next.hidden = !body.more;
  document.body.dataset.answered = "1";
  (body.more ? $("next-question") : els.feedback).focus();
}

async function send(event) {
  event.preventDefault();
  for (const control of controls) {
    if (isRequired(control) && values[control.name] === null) {
      showMessage(t("Please answer: %s", control.label || control.title || control.name), "error");
      return;
    }
  }
  els.submit.disabled = true;
  showMessage("");
  let response;
  try {
    response = await apiFetch(boot.answer_url, { body: { result: values } });
  } catch {
    els.submit.disabled = false;
    showMessage(t("Offline — will retry"), "error");
    return;
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    els.submit.disabled = false;
    const error = (body && body.error) || {};
    showMessage(t("The server refused the answer: %s", error.message || response.status), "error");
    return;
  }
  showMessage("");
  await showFeedback(body);
}

async function start() {
  const shownByWidgets = new Set(["spans", "shapes", "transcription", "epochs"]);
  const sources = {};
  for (const control of controls) {
    if (!shownByWidgets.has(control.type) && control.source) sources[control.source] = true;
  }
  const shown = {};
  for (const key of Object.keys(sources)) {
    if (boot.payload && key in boot.payload) shown[key] = boot.payload[key];
  }
  renderPayload(els.item, Object.keys(shown).length ? shown : boot.payload);
  await renderControls(els.controls, {
    schema: boot.schema, payload: boot.payload, result: {}, readonly: false,
    itemId: boot.item_id, strings: boot.strings || {},
    onChange: (name, value) => { values[name] = value === undefined ? null : value; },
  });
  els.form.addEventListener("submit", send);
  document.body.dataset.ready = "1";
}

start();
