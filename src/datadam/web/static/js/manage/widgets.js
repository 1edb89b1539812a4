// Shows a schema's controls with the labeling widgets (web/static/js/widgets/<type>.js),
// for the schema editor's preview and the inspector's read-only view. A control whose
// widget module is missing or fails is shown as its answer in JSON instead.

const TYPE = /^[a-z][a-z0-9_]{0,31}$/;

/** A `t(msgid, ...args)` over a table of translated strings; `%s` takes the arguments. */
export function translator(strings = {}) {
  return (msgid, ...args) => {
    let text = Object.prototype.hasOwnProperty.call(strings, msgid) ? strings[msgid] : msgid;
    for (const arg of args) text = text.replace("%s", String(arg));
    return text;
  };
}

/** Read a JSON block written by the server with `tojson` (never executed: type is JSON). */
export function readJson(id) {
  const el = document.getElementById(id);
  if (!el) return null;
  try {
    return JSON.parse(el.textContent || "null");
  } catch {
    return null;
  }
}

function staticVersion() {
  const link = document.querySelector('link[rel="stylesheet"][href*="?v="]');
  const match = link ? /[?&]v=([\w-]+)/.exec(link.getAttribute("href")) : null;
  return match ? match[1] : "";
}

function jsonView(value) {
  const pre = document.createElement("pre");
  pre.className = "json-view";
  pre.textContent = JSON.stringify(value === undefined ? null : value, null, 2);
  return pre;
}

/** The item's fields: text as text, anything else as JSON. */
export function renderPayload(container, payload) {
  container.replaceChildren();
  const list = document.createElement("dl");
  list.className = "payload-view";
  for (const [key, value] of Object.entries(payload || {})) {
    if (key === "suggestions") continue;
    const dt = document.createElement("dt");
    dt.textContent = key;
    const dd = document.createElement("dd");
    if (typeof value === "string") {
      const span = document.createElement("span");
      span.className = "payload-text";
      span.textContent = value;
      dd.append(span);
    } else {
      dd.append(jsonView(value));
    }
    list.append(dt, dd);
  }
  container.append(list);
}

/**
 * Mount one widget per control into `container`.
 * Returns the live handles so the caller can destroy them before re-rendering.
 */
export async function renderControls(
  container,
  { schema, payload, result = {}, readonly = false, itemId = null, strings = {}, noWidgetText = "", onChange },
) {
  const t = translator(strings);
  const version = staticVersion();
  const handles = [];
  const parts = [];
  for (const control of (schema && schema.controls) || []) {
    const box = document.createElement("div");
    box.className = "preview-control";
    box.dataset.control = control.name;
    box.dataset.type = control.type;
    parts.push({ control, box });
  }
  container.replaceChildren(...parts.map((p) => p.box));
  for (const { control, box } of parts) {
    const value = result ? result[control.name] : undefined;
    let handle = null;
    if (TYPE.test(control.type || "")) {
      try {
        const module = await import(`/static/js/widgets/${control.type}.js?v=${version}`);
        handle = module.mount(box, {
          control,
          payload,
          value,
          suggestion: undefined,
          readonly,
          onChange: readonly ? () => {} : (v) => onChange && onChange(control.name, v),
          t,
          item_id: itemId,
        });
        if (readonly && !(handle && handle.readonly === true)) {
          // A widget that cannot promise read-only is not shown: the answer appears as JSON.
          if (handle && typeof handle.destroy === "function") handle.destroy();
          throw new Error(`widget ${control.type} has no read-only mode`);
        }
      } catch (error) {
        handle = null;
        box.replaceChildren();
        console.info(`widget ${control.type} unavailable`, error);
      }
    }
    if (handle) {
      handles.push(handle);
      continue;
    }
    box.classList.add("control-fallback");
    const title = document.createElement("p");
    title.className = "control-label";
    title.textContent = control.label || control.title || control.name;
    const note = document.createElement("p");
    note.className = "hint";
    note.textContent = noWidgetText;
    box.append(title, note, jsonView(value));
  }
  return handles;
}

export function destroyAll(handles) {
  for (const handle of handles || []) {
    try {
      if (handle && typeof handle.destroy === "function") handle.destroy();
    } catch (error) {
      console.warn("widget destroy failed", error);
    }
  }
}
