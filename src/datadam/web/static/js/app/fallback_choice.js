// A minimal `choice` control, used only while widgets/choice.js is not installed.
// Same contract as the widget modules: mount(element, options) -> handle.

export function mount(element, { control, value, onChange, t }) {
  const labels = Array.isArray(control.labels) ? control.labels : [];
  const hotkeys = Array.isArray(control.hotkeys) ? control.hotkeys : labels.map((_, i) => (i < 9 ? String(i + 1) : null));
  const group = document.createElement("fieldset");
  group.className = "control control-choice";
  const legend = document.createElement("legend");
  legend.textContent = control.label || control.title || t("Pick a label");
  group.append(legend);
  const options = document.createElement("div");
  options.className = "choice-options";
  const name = `choice-${control.name}-${Math.random().toString(36).slice(2, 8)}`;
  const inputs = labels.map((label, index) => {
    const wrap = document.createElement("label");
    wrap.className = "choice-option";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = name;
    input.value = label;
    input.addEventListener("change", () => onChange(getValue()));
    const text = document.createElement("span");
    text.textContent = label;
    wrap.append(input, text);
    if (hotkeys[index]) {
      const kbd = document.createElement("kbd");
      kbd.textContent = hotkeys[index];
      wrap.append(kbd);
    }
    options.append(wrap);
    return input;
  });
  group.append(options);
  element.append(group);

  function getValue() {
    const picked = inputs.find((input) => input.checked);
    return picked ? picked.value : null;
  }
  function setValue(v) {
    for (const input of inputs) input.checked = input.value === v;
  }
  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName) || (target.tagName === "INPUT" && !/^(radio|checkbox|button|submit)$/.test(target.type)))) return;
    const index = hotkeys.indexOf(event.key);
    if (index < 0) return;
    event.preventDefault();
    setValue(labels[index]);
    inputs[index].focus();
    onChange(getValue());
  }
  document.addEventListener("keydown", onKey);
  setValue(value);

  return {
    getValue,
    setValue,
    focus() {
      (inputs.find((input) => input.checked) || inputs[0])?.focus();
    },
    destroy() {
      document.removeEventListener("keydown", onKey);
      group.remove();
    },
    keys: labels.map((label, index) => ({ key: hotkeys[index], label })).filter((k) => k.key),
  };
}
