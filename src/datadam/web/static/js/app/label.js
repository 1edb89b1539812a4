// The labeling page: mounts one widget per schema control, keeps the draft on this device,
// submits with retries (same client_submission_id every time), then shows the next item
// without reloading. Everything is built with DOM APIs and textContent: item text is data.

import { apiFetch } from "./common.js";
import { clearDraft, loadDraft, newSubmissionId, pruneDrafts, saveDraft } from "./drafts.js";

const TYPES = new Set(["choice", "multichoice", "spans", "shapes", "transcription", "epochs", "text"]);
// Widgets of these types show their own source (text to mark, image, audio, signal).
const SELF_DISPLAY = new Set(["spans", "shapes", "transcription", "epochs"]);
const MAX_RETRY_MS = 30000;

const boot = JSON.parse(document.getElementById("boot").textContent);
const strings = boot.strings || {};

/** Translate a message id from the boot table; each %s takes the next argument. */
export function t(msgid, ...args) {
  let text = Object.prototype.hasOwnProperty.call(strings, msgid) ? strings[msgid] : msgid;
  for (const arg of args) text = text.replace("%s", String(arg));
  return text;
}

const $ = (id) => document.getElementById(id);
const els = {
  form: $("label-form"),
  itemView: $("item-view"),
  controls: $("controls"),
  submit: $("submit-button"),
  skip: $("skip-button"),
  skipForm: $("skip-form"),
  skipCancel: $("skip-cancel"),
  skipOther: $("skip-other"),
  saveState: $("save-state"),
  message: $("page-message"),
  done: $("done-panel"),
  itemId: document.querySelector("[data-item-id]"),
  shortcuts: $("shortcuts"),
  shortcutList: $("shortcut-list"),
};
const baseShortcuts = Array.from(els.shortcutList.children).map((node) => node.cloneNode(true));

const state = {
  task: null,
  widgets: [], // [{control, handle}]
  busy: false,
  attempt: 0,
  retryTimer: null,
  retry: null,
};

const modules = new Map();

function widgetModule(type) {
  if (!TYPES.has(type)) return Promise.resolve(null);
  if (!modules.has(type)) {
    const version = encodeURIComponent(boot.static_version || "");
    const loading = import(`../widgets/${type}.js?v=${version}`).catch(() =>
      type === "choice" ? import("./fallback_choice.js") : null,
    );
    modules.set(type, loading);
  }
  return modules.get(type);
}

// ------------------------------------------------------------------ save state and messages

const STATE_TEXT = {
  idle: "Not saved yet",
  saved: "Saved on this device",
  submitting: "Submitting…",
  submitted: "Submitted",
  offline: "Offline — will retry",
  error: "Could not submit",
  loading: "Loading the next item…",
};

function setSaveState(name) {
  els.saveState.dataset.state = name;
  els.saveState.textContent = t(STATE_TEXT[name]);
  document.body.dataset.saveState = name;
}

function showMessage(text, kind = "info") {
  els.message.hidden = !text;
  els.message.className = `notice notice-${kind}`;
  els.message.textContent = text || "";
}

function lock(locked) {
  state.busy = locked;
  els.submit.disabled = locked;
  els.skip.disabled = locked;
  els.form.setAttribute("aria-busy", locked ? "true" : "false");
}

// ------------------------------------------------------------------ showing an item

function urlFor(template, assignmentId) {
  return template.replace(/\/assignments\/\d+\//, `/assignments/${assignmentId}/`);
}

function taskFromApi(body) {
  return {
    assignment_id: body.assignment_id,
    project_id: body.project_id,
    item_id: body.item_id,
    payload: body.payload || {},
  };
}

function destroyWidgets() {
  for (const { handle } of state.widgets) {
    try {
      handle?.destroy();
    } catch (error) {
      console.error(error);
    }
  }
  state.widgets = [];
  els.controls.replaceChildren();
  els.itemView.replaceChildren();
}

function renderItemView(payload, controls, shownByWidgets) {
  const nodes = [];
  if (typeof payload.title === "string" && payload.title) {
    const title = document.createElement("p");
    title.className = "item-meta";
    title.textContent = payload.title;
    nodes.push(title);
  }
  const sources = new Set();
  for (const control of controls) sources.add(control.source || "text");
  for (const source of sources) {
    if (shownByWidgets.has(source)) continue;
    const value = payload[source];
    if (typeof value !== "string") continue;
    const text = document.createElement("p");
    text.className = "item-text";
    text.dataset.source = source;
    if (typeof payload.lang === "string") text.lang = payload.lang;
    text.textContent = value;
    nodes.push(text);
  }
  els.itemView.replaceChildren(...nodes);
}

function renderShortcuts() {
  const nodes = baseShortcuts.map((node) => node.cloneNode(true));
  for (const { handle } of state.widgets) {
    for (const entry of handle?.keys || []) {
      const dt = document.createElement("dt");
      const kbd = document.createElement("kbd");
      kbd.textContent = entry.key;
      dt.append(kbd);
      const dd = document.createElement("dd");
      dd.textContent = entry.label;
      nodes.push(dt, dd);
    }
  }
  els.shortcutList.replaceChildren(...nodes);
}

function hasValue(values, name) {
  return Object.prototype.hasOwnProperty.call(values, name);
}

async function showTask(task) {
  destroyWidgets();
  state.task = task;
  const controls = Array.isArray(boot.schema?.controls) ? boot.schema.controls : [];
  const payload = task.payload && typeof task.payload === "object" ? task.payload : {};
  const suggestions = payload.suggestions && typeof payload.suggestions === "object" ? payload.suggestions : {};
  const draft = loadDraft(task.assignment_id);
  const shown = new Set();
  const mounted = [];
  for (const control of controls) {
    const holder = document.createElement("div");
    holder.className = "control-holder";
    holder.dataset.control = control.name;
    els.controls.append(holder);
    const module = await widgetModule(control.type);
    const suggestion = hasValue(suggestions, control.name) ? suggestions[control.name] : null;
    const value = draft && hasValue(draft.values, control.name) ? draft.values[control.name] : suggestion;
    let handle = null;
    if (module && typeof module.mount === "function") {
      try {
        handle = module.mount(holder, {
          control, payload, value, suggestion, onChange, t, item_id: task.item_id,
        });
      } catch (error) {
        console.error(error);
      }
    }
    if (!handle) {
      const note = document.createElement("p");
      note.className = "control-missing";
      note.textContent = t("This control cannot be shown yet (%s).", control.label || control.name);
      holder.append(note);
    } else if (SELF_DISPLAY.has(control.type)) {
      shown.add(control.source || "text");
    }
    mounted.push({ control, handle });
  }
  state.widgets = mounted;
  renderItemView(payload, controls, shown);
  renderShortcuts();
  els.itemId.textContent = String(task.item_id);
  document.body.dataset.assignmentId = String(task.assignment_id);
  document.body.dataset.itemId = String(task.item_id);
  els.form.hidden = false;
  els.done.hidden = true;
  lock(false);
  if (draft?.pending) {
    // A submission was on its way when the page closed: finish it with the same id.
    send(task, draft);
  } else if (draft) {
    setSaveState("saved");
    showMessage(t("Your earlier draft of this item was restored."), "info");
  }
  focusFirst();
}

function focusFirst() {
  const first = state.widgets.find((w) => w.handle);
  if (first) first.handle.focus();
  else els.submit.focus();
}

function collect() {
  const values = {};
  for (const { control, handle } of state.widgets) {
    const value = handle ? handle.getValue() : null;
    values[control.name] = value === undefined ? null : value;
  }
  return values;
}

function onChange() {
  if (state.busy || !state.task) return;
  const stored = saveDraft(state.task.assignment_id, { values: collect() });
  setSaveState(stored ? "saved" : "idle");
}

// ------------------------------------------------------------------ submit, retry, next

/** Whether a control must be answered: as the schema says, and free text is optional by default. */
function isRequired(control) {
  if (typeof control.required === "boolean") return control.required;
  return control.type !== "text";
}

function missingAnswer(values) {
  for (const { control, handle } of state.widgets) {
    if (!isRequired(control) || !handle) continue;
    if (values[control.name] === null) return { control, handle };
  }
  return null;
}

function submit() {
  if (state.busy || !state.task) return;
  const values = collect();
  const missing = missingAnswer(values);
  if (missing) {
    showMessage(t("Please answer: %s", missing.control.label || missing.control.title || missing.control.name), "error");
    missing.handle.focus();
    return;
  }
  performance.mark("dd:submit");
  const record = { values, csid: newSubmissionId(), pending: true };
  saveDraft(state.task.assignment_id, record);
  showMessage("");
  send(state.task, record);
}

function retryLater(run, retryAfterSeconds) {
  state.attempt += 1;
  const backoff = Math.min(MAX_RETRY_MS, 1000 * 2 ** Math.min(state.attempt - 1, 5));
  const wait = Math.max(backoff, (retryAfterSeconds || 0) * 1000) * (0.8 + Math.random() * 0.4);
  clearTimeout(state.retryTimer);
  state.retry = run;
  state.retryTimer = setTimeout(() => {
    state.retry = null;
    run();
  }, wait);
}

window.addEventListener("online", () => {
  if (!state.retry) return;
  clearTimeout(state.retryTimer);
  const run = state.retry;
  state.retry = null;
  run();
});

async function errorOf(response) {
  try {
    const body = await response.json();
    return body && body.error ? body.error : {};
  } catch {
    return {};
  }
}

async function send(task, record) {
  lock(true);
  setSaveState("submitting");
  let response;
  try {
    const url = `${urlFor(boot.submit_url, task.assignment_id)}?next_in_project=${encodeURIComponent(task.project_id ?? boot.project_id)}`;
    response = await apiFetch(url, {
      body: { result: record.values, client_submission_id: record.csid },
    });
  } catch {
    setSaveState("offline");
    retryLater(() => send(task, record));
    return;
  }
  if (response.ok) {
    performance.mark("dd:submitted");
    state.attempt = 0;
    clearDraft(task.assignment_id);
    setSaveState("submitted");
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (body && body.next_checked) {
      await showNext(body.next);
    } else {
      await loadNext();
    }
    return;
  }
  if (response.status >= 500 || response.status === 429 || response.status === 408) {
    setSaveState("offline");
    retryLater(() => send(task, record), Number(response.headers.get("Retry-After")) || 0);
    return;
  }
  const error = await errorOf(response);
  state.attempt = 0;
  if (response.status === 409 && (error.code === "assignment_expired" || error.code === "already_submitted" || error.code === "not_active")) {
    clearDraft(task.assignment_id);
    const text = error.code === "assignment_expired"
      ? t("Your time for this item ran out and others have finished it. Please take the next item.")
      : t("This item was already submitted.");
    showMessage(text, "info");
    await loadNext();
    return;
  }
  if (response.status === 401 || (response.status === 403 && error.code === "csrf_failed")) {
    setSaveState("error");
    showMessage(t("Your session has ended. Please log in again; your work is kept on this device."), "error");
    return; // the draft stays pending; after logging in the page finishes the submission
  }
  saveDraft(task.assignment_id, { values: record.values });
  setSaveState("error");
  showMessage(t("The server refused the answer: %s", error.message || response.status), "error");
  lock(false);
}

/** Show the task the submit response carried (null: nothing left), without another request. */
async function showNext(next) {
  if (!next) {
    showDone();
    return;
  }
  performance.mark("dd:next-received");
  const task = taskFromApi(next);
  await showTask(task);
  history.replaceState(null, "", boot.page_url.replace("{id}", String(task.assignment_id)));
  performance.mark("dd:shown");
}

function showDone() {
  destroyWidgets();
  state.task = null;
  els.form.hidden = true;
  els.done.hidden = false;
  els.done.querySelector("a")?.focus();
  document.body.dataset.assignmentId = "";
  performance.mark("dd:shown");
}

async function loadNext() {
  lock(true);
  let response;
  try {
    response = await apiFetch(boot.next_url);
  } catch {
    setSaveState("offline");
    retryLater(loadNext);
    return;
  }
  if (response.status === 204) {
    showDone();
    return;
  }
  if (!response.ok) {
    if (response.status >= 500 || response.status === 429) {
      setSaveState("offline");
      retryLater(loadNext, Number(response.headers.get("Retry-After")) || 0);
      return;
    }
    const error = await errorOf(response);
    if (error.code === "worker_paused" || error.code === "qualification_required") {
      // Paused by gold accuracy, or not yet qualified: the project page says why, in the
      // reader's language, with the appeal form or the test.
      window.location.assign(`/work/projects/${encodeURIComponent(boot.project_id)}`);
      return;
    }
    setSaveState("error");
    showMessage(error.message || String(response.status), "error");
    return;
  }
  state.attempt = 0;
  const task = taskFromApi(await response.json());
  performance.mark("dd:next-received");
  await showTask(task);
  history.replaceState(null, "", boot.page_url.replace("{id}", String(task.assignment_id)));
  performance.mark("dd:shown");
}

// ------------------------------------------------------------------ skip

function openSkip(open) {
  els.skipForm.hidden = !open;
  els.skip.setAttribute("aria-expanded", open ? "true" : "false");
  if (open) els.skipForm.querySelector("input[type=radio]")?.focus();
  else els.skip.focus();
}

async function skip(event) {
  event.preventDefault();
  if (state.busy || !state.task) return;
  const picked = els.skipForm.querySelector("input[name=reason]:checked");
  const other = els.skipOther.value.trim();
  if (!picked || (picked.value === "other" && !other)) {
    showMessage(t("Please describe the reason"), "error");
    (picked ? els.skipOther : els.skipForm.querySelector("input[type=radio]")).focus();
    return;
  }
  const reason = other ? `${picked.value}: ${other}` : picked.value;
  const task = state.task;
  lock(true);
  let response;
  try {
    response = await apiFetch(urlFor(boot.skip_url, task.assignment_id), { body: { reason } });
  } catch {
    lock(false);
    setSaveState("offline");
    return;
  }
  if (!response.ok && response.status !== 409) {
    const error = await errorOf(response);
    lock(false);
    showMessage(error.message || String(response.status), "error");
    return;
  }
  clearDraft(task.assignment_id);
  els.skipForm.reset();
  els.skipForm.hidden = true;
  els.skip.setAttribute("aria-expanded", "false");
  showMessage("");
  setSaveState("idle");
  await loadNext();
}

// ------------------------------------------------------------------ keyboard and start-up

function typing(target) {
  return target && (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName) ||
    (target.tagName === "INPUT" && !/^(radio|checkbox|button|submit)$/.test(target.type)));
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    if (!els.skipForm.hidden) els.skipForm.requestSubmit();
    else submit();
    return;
  }
  if (event.key === "Escape" && !els.skipForm.hidden) {
    openSkip(false);
    return;
  }
  if (event.key === "?" && !typing(event.target)) {
    els.shortcuts.hidden = !els.shortcuts.hidden;
  }
});

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
els.skip.addEventListener("click", () => openSkip(els.skipForm.hidden));
els.skipCancel.addEventListener("click", () => openSkip(false));
els.skipForm.addEventListener("submit", skip);

pruneDrafts();
showTask({
  assignment_id: boot.assignment_id,
  project_id: boot.project_id,
  item_id: boot.item_id,
  payload: boot.payload || {},
}).then(() => {
  performance.mark("dd:interactive");
  document.body.dataset.ready = "1";
});
