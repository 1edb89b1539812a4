// text: a free-text answer with a live character counter (code points, as the server counts).
// `readonly` makes the box a read-only text area (still focusable, so it can be read and copied).
import { el, ensureStyles, header, suggestionBadge } from "./_common.js";

export function textArea(control, t, { value, suggestion, onChange, rows = 4, readonly = false }) {
  const limit = Number.isInteger(control.max_length) ? control.max_length : 2000;
  const area = el("textarea", "widget-textarea");
  area.rows = rows;
  area.spellcheck = !readonly;
  area.readOnly = readonly;
  area.setAttribute("aria-label", control.label || control.title || control.name);
  const counter = el("span", "char-counter");
  counter.setAttribute("aria-live", "polite");
  const badge = suggestionBadge(t);
  let touched = false;
  const length = () => Array.from(area.value).length;
  function refresh() {
    const n = length();
    counter.textContent = t("%s / %s characters").replace("%s", n.toLocaleString()).replace("%s", limit.toLocaleString());
    counter.classList.toggle("over-limit", n > limit);
    area.setAttribute("aria-invalid", n > limit ? "true" : "false");
    badge.hidden = touched || typeof suggestion !== "string" || !suggestion || area.value !== suggestion;
  }
  area.addEventListener("input", () => {
    if (readonly) return;
    touched = true;
    refresh();
    onChange(getValue());
  });
  function getValue() {
    return area.value === "" ? null : area.value;
  }
  function setValue(v) {
    area.value = typeof v === "string" ? v : "";
    refresh();
  }
  setValue(value);
  return { area, counter, badge, getValue, setValue, refresh };
}

export function mount(element, { control, value, suggestion, onChange, t, readonly = false }) {
  ensureStyles();
  const box = el("div", "widget widget-text");
  box.classList.toggle("is-readonly", readonly);
  const head = header(control, t, "Comment");
  const field = textArea(control, t, { value, suggestion, onChange, readonly });
  head.append(field.badge);
  const foot = el("div", "widget-foot");
  foot.append(field.counter);
  box.append(head, field.area, foot);
  element.append(box);
  return {
    readonly,
    getValue: field.getValue,
    setValue: field.setValue,
    focus() {
      field.area.focus();
    },
    destroy() {
      box.remove();
    },
    keys: [],
  };
}
