// multichoice: several labels. Number keys (or schema hotkeys) toggle a label; arrow keys move
// between the boxes and Space toggles. `max` is enforced as you pick. `readonly` shows the
// answer in a disabled group and claims no keys.
import {
  claimKeys, el, ensureStyles, focusIsIn, header, hotkeyIndex, hotkeysFor, isTyping, keyList, liveNote,
  releaseKeys, sameJSON, suggestionBadge,
} from "./_common.js";

export function mount(element, { control, value, suggestion, onChange, t, readonly = false }) {
  ensureStyles();
  const owner = {};
  const labels = Array.isArray(control.labels) ? control.labels : [];
  const max = Math.min(Number.isInteger(control.max) ? control.max : labels.length, labels.length);
  const min = Number.isInteger(control.min) ? control.min : 0;
  const hotkeys = readonly ? labels.map(() => null) : claimKeys(owner, hotkeysFor(control));
  const group = el("fieldset", "widget widget-multichoice");
  group.disabled = readonly;
  group.classList.toggle("is-readonly", readonly);
  const legend = el("legend");
  legend.append(header(control, t, "Pick labels"));
  const badge = suggestionBadge(t);
  legend.append(badge);
  group.append(legend);
  const limits = el("p", "widget-hint", t("Choose %s to %s.").replace("%s", min).replace("%s", max));
  limits.hidden = readonly;
  const options = el("div", "choice-options");
  const note = liveNote();
  const inputs = labels.map((label, index) => {
    const wrap = el("label", `choice-option lab-${index % 10}`);
    const input = el("input");
    input.type = "checkbox";
    input.value = label;
    input.addEventListener("change", () => {
      if (input.checked && checkedCount() > max) {
        input.checked = false;
        note.textContent = t("At most %s labels.").replace("%s", max);
        return;
      }
      changed();
    });
    wrap.append(input, el("span", "choice-label", label));
    if (hotkeys[index]) wrap.append(el("kbd", null, hotkeys[index]));
    options.append(wrap);
    return input;
  });
  group.append(limits, options, note);
  element.append(group);

  let touched = false;
  let answered = value !== null && value !== undefined;
  const checkedCount = () => inputs.filter((i) => i.checked).length;

  function getValue() {
    if (!answered) return null;
    return inputs.filter((i) => i.checked).map((i) => i.value);
  }
  function setValue(v) {
    const wanted = new Set(Array.isArray(v) ? v : []);
    for (const input of inputs) input.checked = wanted.has(input.value);
    answered = Array.isArray(v);
    refresh();
  }
  function refresh() {
    const shown = !touched && Array.isArray(suggestion) && sameJSON(getValue(), labels.filter((l) => suggestion.includes(l)));
    badge.hidden = !shown;
    group.classList.toggle("is-suggested", shown);
  }
  function changed() {
    if (readonly) return;
    touched = true;
    answered = true;
    note.textContent = "";
    refresh();
    onChange(getValue());
  }
  function onKey(event) {
    if (event.defaultPrevented || isTyping(event.target)) return;
    const index = hotkeyIndex(hotkeys, event);
    if (index >= 0) {
      event.preventDefault();
      const input = inputs[index];
      if (!input.checked && checkedCount() >= max) {
        note.textContent = t("At most %s labels.").replace("%s", max);
        return;
      }
      input.checked = !input.checked;
      input.focus();
      changed();
      return;
    }
    const at = inputs.indexOf(event.target);
    if (at < 0 || !focusIsIn(group, event.target)) return;
    const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
    if (step) {
      event.preventDefault();
      inputs[(at + step + inputs.length) % inputs.length].focus();
    }
  }
  if (!readonly) document.addEventListener("keydown", onKey);
  setValue(value);

  return {
    readonly,
    getValue,
    setValue,
    focus() {
      inputs[0]?.focus();
    },
    destroy() {
      document.removeEventListener("keydown", onKey);
      releaseKeys(owner);
      group.remove();
    },
    keys: keyList(hotkeys, labels),
  };
}
