// spans: mark labelled character ranges in the item's text.
// Mouse: select text, then press a label key or click a label. Keyboard: focus the text,
// move the caret with ←/→ (Home/End), extend with Shift+←/→, press a label key; Delete or
// Backspace removes the span under the caret. Offsets count code points (Array.from), the
// same as Python's str indices, so emoji (surrogate pairs in JS strings) count once.
// `readonly` shows the marked text and the span list only: the caret still moves, nothing edits.
import {
  claimKeys, el, ensureStyles, header, hotkeyIndex, hotkeysFor, isTyping, keyList, liveNote, releaseKeys,
  sameJSON, suggestionBadge,
} from "./_common.js";

function sortSpans(spans) {
  return spans.slice().sort((a, b) => a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

export function mount(element, { control, payload, value, suggestion, onChange, t, readonly = false }) {
  ensureStyles();
  const owner = {};
  const labels = Array.isArray(control.labels) ? control.labels : [];
  const hotkeys = readonly ? labels.map(() => null) : claimKeys(owner, hotkeysFor(control));
  const source = control.source || "text";
  const text = typeof payload?.[source] === "string" ? payload[source] : "";
  const chars = Array.from(text);
  const n = chars.length;

  const box = el("div", "widget widget-spans");
  box.classList.toggle("is-readonly", readonly);
  const head = header(control, t, "Mark the text");
  const badge = suggestionBadge(t);
  head.append(badge);
  const bar = el("div", "label-bar");
  bar.hidden = readonly;
  const buttons = labels.map((label, index) => {
    const button = el("button", `label-button lab-${index % 10}`);
    button.type = "button";
    button.append(el("span", null, label));
    if (hotkeys[index]) button.append(el("kbd", null, hotkeys[index]));
    button.addEventListener("click", () => apply(index));
    bar.append(button);
    return button;
  });
  const area = el("div", "spans-text");
  area.tabIndex = 0;
  area.setAttribute("role", "textbox");
  area.setAttribute("aria-readonly", "true");
  area.setAttribute("aria-multiline", "true");
  area.setAttribute(
    "aria-label",
    readonly ? t("Marked text") : t("Text to mark: use arrow keys, Shift+arrows to select, then a label key"),
  );
  if (typeof payload?.lang === "string") area.lang = payload.lang;
  const note = liveNote();
  const list = el("ol", "span-list");
  const help = el("p", "widget-hint", t("Select with the mouse or Shift+arrows, then press a label key. Delete removes the span at the caret."));
  help.hidden = readonly;
  box.append(head, bar, area, note, list, help);
  element.append(box);

  let spans = [];
  let caret = 0;
  let anchor = null;
  let touched = false;

  const selection = () => (anchor === null || anchor === caret ? null : [Math.min(anchor, caret), Math.max(anchor, caret)]);

  function render() {
    const sel = selection();
    const cuts = new Set([0, n, caret]);
    if (sel) cuts.add(sel[0]).add(sel[1]);
    for (const s of spans) cuts.add(s.start).add(s.end);
    const points = Array.from(cuts).filter((p) => p >= 0 && p <= n).sort((a, b) => a - b);
    const nodes = [];
    for (let i = 0; i + 1 < points.length; i += 1) {
      const a = points[i];
      const b = points[i + 1];
      const seg = el("span", "seg", chars.slice(a, b).join(""));
      seg.dataset.start = String(a);
      const covering = spans.filter((s) => s.start <= a && b <= s.end);
      if (covering.length) {
        const top = covering[covering.length - 1];
        seg.classList.add("ann", `lab-${labels.indexOf(top.label) % 10}`);
        if (covering.length > 1) seg.classList.add("multi");
        seg.title = covering.map((s) => s.label).join(", ");
      }
      if (sel && sel[0] <= a && b <= sel[1]) seg.classList.add("sel");
      if (a === caret) seg.classList.add("caret-before");
      nodes.push(seg);
    }
    if (caret === n) {
      const end = el("span", "seg caret-end");
      end.dataset.start = String(n);
      nodes.push(end);
    }
    area.replaceChildren(...nodes);
    renderList();
    const shown = !touched && Array.isArray(suggestion) && suggestion.length > 0 && sameJSON(spans, sortSpans(suggestion));
    badge.hidden = !shown;
    box.classList.toggle("is-suggested", shown);
  }

  function renderList() {
    const items = spans.map((s, index) => {
      const li = el("li", "span-item");
      li.append(el("span", `span-tag lab-${labels.indexOf(s.label) % 10}`, s.label));
      li.append(el("q", "span-quote", chars.slice(s.start, s.end).join("")));
      li.append(el("span", "span-range", `${s.start}–${s.end}`));
      if (readonly) return li;
      const del = el("button", "span-delete", t("Delete"));
      del.type = "button";
      del.setAttribute("aria-label", t("Delete span %s").replace("%s", index + 1));
      del.addEventListener("click", () => {
        remove(s);
        area.focus();
      });
      li.append(del);
      return li;
    });
    list.replaceChildren(...items);
  }

  function changed() {
    if (readonly) return;
    touched = true;
    render();
    onChange(getValue());
  }

  function apply(index) {
    if (readonly) return;
    const sel = selection();
    if (!sel) {
      note.textContent = t("Select some text first.");
      return;
    }
    const [start, end] = sel;
    const label = labels[index];
    if (spans.some((s) => s.start === start && s.end === end && s.label === label)) {
      note.textContent = t("That span is already marked.");
      return;
    }
    if (!control.allow_overlap && spans.some((s) => s.start < end && start < s.end)) {
      note.textContent = t("Spans may not overlap.");
      return;
    }
    spans = sortSpans([...spans, { start, end, label }]);
    note.textContent = t("Marked %s.").replace("%s", label);
    anchor = null;
    caret = end;
    changed();
  }

  function remove(span) {
    if (readonly) return;
    spans = spans.filter((s) => s !== span);
    note.textContent = t("Span deleted.");
    changed();
  }

  function spanAtCaret() {
    const sel = selection();
    const at = sel ? sel[0] : caret;
    const hits = spans.filter((s) => s.start <= at && at < s.end);
    if (hits.length) return hits[hits.length - 1];
    const before = spans.filter((s) => s.start < at && at <= s.end);
    return before.length ? before[before.length - 1] : null;
  }

  function offsetOf(node, offset) {
    if (node === area) {
      const child = area.childNodes[offset];
      return child ? Number(child.dataset.start) : n;
    }
    const seg = (node.nodeType === Node.TEXT_NODE ? node.parentElement : node)?.closest?.("[data-start]");
    if (!seg || !area.contains(seg)) return null;
    const start = Number(seg.dataset.start);
    if (node.nodeType !== Node.TEXT_NODE) return start + (offset > 0 ? Array.from(seg.textContent).length : 0);
    return start + Array.from(node.data.slice(0, offset)).length;
  }

  area.addEventListener("mouseup", () => {
    const dom = window.getSelection();
    if (!dom || dom.rangeCount === 0) return;
    const a = offsetOf(dom.anchorNode, dom.anchorOffset);
    const b = offsetOf(dom.focusNode, dom.focusOffset);
    if (a === null || b === null) return;
    anchor = a === b ? null : a;
    caret = b;
    dom.removeAllRanges();
    area.focus();
    render();
  });

  area.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const move = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    if (move || event.key === "Home" || event.key === "End") {
      event.preventDefault();
      if (event.shiftKey) {
        if (anchor === null) anchor = caret;
      } else {
        anchor = null;
      }
      if (move) caret = Math.max(0, Math.min(n, caret + move));
      else caret = event.key === "Home" ? 0 : n;
      render();
    } else if (event.key === "Escape" && selection()) {
      event.preventDefault();
      anchor = null;
      render();
    } else if (!readonly && (event.key === "Delete" || event.key === "Backspace")) {
      const span = spanAtCaret();
      if (span) {
        event.preventDefault();
        remove(span);
      }
    }
  });

  function onKey(event) {
    if (event.defaultPrevented || isTyping(event.target)) return;
    const index = hotkeyIndex(hotkeys, event);
    if (index < 0 || !selection()) return;
    event.preventDefault();
    apply(index);
  }
  if (!readonly) document.addEventListener("keydown", onKey);

  function getValue() {
    return spans.map((s) => ({ start: s.start, end: s.end, label: s.label }));
  }
  function setValue(v) {
    spans = sortSpans(
      (Array.isArray(v) ? v : []).filter(
        (s) => s && Number.isInteger(s.start) && Number.isInteger(s.end) && s.start < s.end && s.end <= n && labels.includes(s.label),
      ).map((s) => ({ start: s.start, end: s.end, label: s.label })),
    );
    render();
  }
  setValue(value);

  return {
    readonly,
    getValue,
    setValue,
    focus() {
      area.focus();
    },
    destroy() {
      document.removeEventListener("keydown", onKey);
      releaseKeys(owner);
      box.remove();
    },
    keys: readonly
      ? []
      : [
          ...keyList(hotkeys, labels),
          { key: "Shift+←/→", label: t("select text") },
          { key: "Delete", label: t("delete the span at the caret") },
        ],
    buttons,
  };
}
