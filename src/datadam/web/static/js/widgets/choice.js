// choice: exactly one label. Number keys (or the schema's hotkeys) pick a label; arrow keys move
// between the radio buttons and Space picks, as native radio groups do. `readonly` shows the
// answer in a disabled group and claims no keys.
import {
  claimKeys, el, ensureStyles, header, hotkeyIndex, hotkeysFor, isTyping, keyList, releaseKeys,
  suggestionBadge,
} from "./_common.js";

export function mount(element, { control, value, suggestion, onChange, t, readonly = false }) {
  ensureStyles();
  const owner = {};
  const labels = Array.isArray(control.labels) ? control.labels : [];
  const hotkeys = readonly ? labels.map(() => null) : claimKeys(owner, hotkeysFor(control));
  const group = el("fieldset", "widget widget-choice");
  group.disabled = readonly;
  group.classList.toggle("is-readonly", readonly);
  const legend = el("legend");
  legend.append(header(control, t, "Pick a label"));
  const badge = suggestionBadge(t);
  legend.append(badge);
  group.append(legend);
  const options = el("div", "choice-options");
  options.setAttribute("role", "radiogroup");
  const name = `choice-${control.name}-${Math.random().toString(36).slice(2, 8)}`;
  const inputs = labels.map((label, index) => {
    const wrap = el("label", `choice-option lab-${index % 10}`);
    const input = el("input");
    input.type = "radio";
    input.name = name;
    input.value = label;
    input.addEventListener("change", changed);
    wrap.append(input, el("span", "choice-label", label));
    if (hotkeys[index]) wrap.append(el("kbd", null, hotkeys[index]));
    options.append(wrap);
    return input;
  });
  group.append(options);
  element.append(group);

  let touched = false;
  function getValue() {
    const picked = inputs.find((input) => input.checked);
    return picked ? picked.value : null;
  }
  function setValue(v) {
    for (const input of inputs) input.checked = input.value === v;
    refresh();
  }
  function refresh() {
    const current = getValue();
    badge.hidden = touched || suggestion === null || suggestion === undefined || current !== suggestion;
    group.classList.toggle("is-suggested", !badge.hidden);
  }
  function changed() {
    if (readonly) return;
    touched = true;
    refresh();
    onChange(getValue());
  }
  function onKey(event) {
    if (event.defaultPrevented || isTyping(event.target)) return;
    const index = hotkeyIndex(hotkeys, event);
    if (index < 0) return;
    event.preventDefault();
    inputs[index].checked = true;
    inputs[index].focus();
    changed();
  }
  if (!readonly) document.addEventListener("keydown", onKey);
  setValue(value ?? null);

  return {
    readonly,
    getValue,
    setValue(v) {
      setValue(v);
    },
    focus() {
      (inputs.find((input) => input.checked) || inputs[0])?.focus();
    },
    destroy() {
      document.removeEventListener("keydown", onKey);
      releaseKeys(owner);
      group.remove();
    },
    keys: keyList(hotkeys, labels),
  };
}
