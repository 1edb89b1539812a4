// Helpers shared by the widget modules. No innerHTML anywhere: data only ever reaches the DOM
// through textContent, attributes set one by one, or canvas fillText.

/** Create an element with an optional class name and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

/** Load widgets.css once, from our own origin (allowed by style-src 'self'). */
export function ensureStyles() {
  if (document.querySelector("link[data-widgets-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  // Same cache-busting version as the module itself (label.js imports widgets with ?v=...).
  link.href = new URL("../../css/widgets.css", import.meta.url).pathname + new URL(import.meta.url).search;
  link.dataset.widgetsCss = "";
  document.head.append(link);
}

/** True when the key press belongs to a text field (its characters are typing, not shortcuts). */
export function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  return target.tagName === "INPUT" && !/^(radio|checkbox|button|submit|reset|range)$/.test(target.type);
}

/** Navigation keys (arrows, Tab, Delete, Enter) act only when focus is in `root` or nowhere. */
export function focusIsIn(root, target) {
  return !target || target === document.body || target === document.documentElement || root.contains(target);
}

// One page may hold several widgets (the sleep schema has epochs, a choice and a comment).
// A single-character hotkey belongs to the first widget that claims it, so two controls never
// react to the same key; explicit schema hotkeys are validated unique per control only.
const claimed = new Map();

/** Claim `keys` for `owner`; returns the keys actually granted (null for refused ones). */
export function claimKeys(owner, keys) {
  return keys.map((key) => {
    if (!key) return null;
    const k = key.toLowerCase();
    if (claimed.has(k) && claimed.get(k) !== owner) return null;
    claimed.set(k, owner);
    return key;
  });
}

export function releaseKeys(owner) {
  for (const [key, who] of claimed) if (who === owner) claimed.delete(key);
}

/** Schema hotkeys, or 1-9 for the first nine labels when the schema gives none. */
export function hotkeysFor(control) {
  const labels = Array.isArray(control.labels) ? control.labels : [];
  if (Array.isArray(control.hotkeys) && control.hotkeys.length === labels.length) return control.hotkeys.slice();
  return labels.map((_, i) => (i < 9 ? String(i + 1) : null));
}

/** Index of the hotkey pressed, or -1. Letters match case-insensitively. */
export function hotkeyIndex(hotkeys, event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return -1;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  return hotkeys.findIndex((h) => h && h.toLowerCase() === key);
}

/** Header of a control: title/label as legend text and the hint, all as text. */
export function header(control, t, fallback) {
  const box = el("div", "widget-head");
  box.append(el("span", "widget-title", control.label || control.title || t(fallback)));
  if (control.hint) box.append(el("p", "widget-hint", control.hint));
  return box;
}

/** The "model suggestion" badge, hidden once the worker changes the value. */
export function suggestionBadge(t) {
  const badge = el("span", "suggestion-badge", t("Model suggestion"));
  badge.hidden = true;
  return badge;
}

/** A polite live region for short notices ("Spans may not overlap"). */
export function liveNote() {
  const note = el("p", "widget-note");
  note.setAttribute("aria-live", "polite");
  return note;
}

export function sameJSON(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The item whose media to load. The page should pass `item_id` in the mount options; without
 * it, wait one task (the labeling page sets body[data-item-id] right after mounting every
 * widget of the item) and fall back to the boot block's item.
 */
export function whenItemId(options) {
  const given = options.item_id ?? options.itemId;
  if (given !== undefined && given !== null) return Promise.resolve(given);
  return new Promise((resolve) => {
    setTimeout(() => {
      const fromPage = document.body.dataset.itemId;
      if (fromPage) {
        resolve(fromPage);
        return;
      }
      try {
        resolve(JSON.parse(document.getElementById("boot").textContent).item_id);
      } catch {
        resolve(null);
      }
    }, 0);
  });
}

/** The media URL for `source` of an item (bound to the item, so access is checked per item). */
export function mediaUrl(itemId, source) {
  return `/api/v1/items/${encodeURIComponent(itemId)}/media?source=${encodeURIComponent(source)}`;
}

/** A list of {key, label} for the page's shortcut panel. */
export function keyList(hotkeys, labels) {
  return labels.map((label, i) => ({ key: hotkeys[i], label })).filter((k) => k.key);
}
