// epochs: sleep staging (or any per-epoch labelling) of a multi-channel recording.
// One page = one epoch (30 s for AASM) of every channel, drawn on a canvas at a stated scale
// (µV per division, per channel) with a time axis; below it the hypnogram of the whole night,
// where a click jumps to that epoch. Keys: stage keys (schema hotkeys, default w/1/2/3/r) label
// the epoch and move on; ←/→ previous/next epoch; u next unlabelled (or unconfirmed) epoch;
// Enter accepts the model's suggestion; ↑/↓ pick a channel, +/- change its scale. `readonly`
// keeps moving and scaling but labels nothing (no stage keys, buttons, Enter or Delete).
import {
  claimKeys, el, ensureStyles, focusIsIn, header, hotkeyIndex, isTyping, keyList, liveNote,
  releaseKeys, sameJSON, suggestionBadge, whenItemId,
} from "./_common.js";

const AASM_KEYS = { W: "w", N1: "1", N2: "2", N3: "3", REM: "r", R: "r" };
const AASM_ORDER = ["W", "REM", "R", "N1", "N2", "N3"];
const GAINS = [2, 5, 10, 20, 25, 50, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000];
const DEFAULT_GAIN = { eeg: 50, eog: 100, emg: 25, ecg: 500 };
const COLOURS = { eeg: "#1d3f8f", eog: "#1f7a4d", emg: "#8a3b12", ecg: "#7a1f5c", other: "#444" };
const MAX_CACHED_PAGES = 24;

/** Parse the binary page: `DDSG`, u32 header length, JSON header, float32 LE channels. */
export function parsePage(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 4)) !== "DDSG") throw new Error("not a signal page");
  const length = new DataView(buffer).getUint32(4, true);
  const headerJson = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  let offset = 8 + length;
  const channels = headerJson.channels.map((c) => {
    const data = new Float32Array(buffer, offset, c.n);
    offset += c.n * 4;
    return { ...c, data };
  });
  return { ...headerJson, channels };
}

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (v) => String(v).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(sec)}` : `${two(m)}:${two(sec)}`;
}

function autoGain(data) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i += 1) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const half = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  return GAINS.find((g) => g >= half / 2) || GAINS[GAINS.length - 1];
}

/**
 * Draw one page on a 2D context of size width x height (CSS pixels).
 * Per channel: a row with its label and "N µV/div"; a division is half the row height, shown
 * by the grid and a scale bar. Time grid every second, stronger and labelled every 5 s.
 * Dense signals are drawn as one min/max line per pixel column, so cost follows the width.
 */
export function drawPage(ctx, page, { width, height, gains, selected = -1, left = 132, bottom = 22 }) {
  const plotW = width - left - 8;
  const n = page.channels.length;
  const rowH = (height - bottom) / Math.max(1, n);
  const seconds = page.epoch_seconds;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  if (selected >= 0 && selected < n) {
    ctx.fillStyle = "#eef3ff";
    ctx.fillRect(0, selected * rowH, width, rowH);
  }
  // time grid
  ctx.lineWidth = 1;
  for (let s = 0; s <= seconds; s += 1) {
    const x = Math.round(left + (s / seconds) * plotW) + 0.5;
    ctx.strokeStyle = s % 5 === 0 ? "#c7ccd6" : "#eceef2";
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x, height - bottom);
    ctx.stroke();
  }
  ctx.fillStyle = "#333";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "top";
  ctx.textAlign = "center";
  for (let s = 0; s <= seconds; s += 5) {
    const x = left + (s / seconds) * plotW;
    ctx.fillText(clock(page.start_s + s), Math.min(width - 24, Math.max(left + 16, x)), height - bottom + 5);
  }
  ctx.textAlign = "left";
  for (let c = 0; c < n; c += 1) {
    const channel = page.channels[c];
    const mid = c * rowH + rowH / 2;
    const div = rowH / 2;
    const gain = gains[c];
    // divisions: centre line and +/- one division
    ctx.strokeStyle = "#e3e6ec";
    ctx.beginPath();
    for (const y of [mid - div, mid + div]) {
      ctx.moveTo(left, Math.round(y) + 0.5);
      ctx.lineTo(left + plotW, Math.round(y) + 0.5);
    }
    ctx.stroke();
    ctx.strokeStyle = "#d0d4dc";
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(left, Math.round(mid) + 0.5);
    ctx.lineTo(left + plotW, Math.round(mid) + 0.5);
    ctx.stroke();
    ctx.setLineDash([]);
    // label, scale text and a one-division scale bar
    ctx.fillStyle = "#111";
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.fillText(channel.label.slice(0, 18), 6, mid - 8);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#555";
    ctx.fillText(`${gain} ${channel.unit}/div`, 6, mid + 8);
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(left - 8, mid);
    ctx.lineTo(left - 8, mid - div);
    ctx.stroke();
    ctx.lineWidth = 1;
    // the trace
    const data = channel.data;
    const count = data.length;
    const scale = div / gain;
    const perSecond = channel.sfreq;
    const xOf = (i) => left + (i / perSecond / seconds) * plotW;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, c * rowH, plotW, rowH);
    ctx.clip();
    ctx.strokeStyle = COLOURS[channel.kind] || COLOURS.other;
    ctx.beginPath();
    const samplesPerPx = count / Math.max(1, (count / perSecond / seconds) * plotW);
    if (samplesPerPx > 2) {
      const columns = Math.ceil((count / perSecond / seconds) * plotW);
      for (let px = 0; px < columns; px += 1) {
        const from = Math.floor(px * samplesPerPx);
        const to = Math.min(count, Math.floor((px + 1) * samplesPerPx));
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = from; i < to; i += 1) {
          const v = data[i];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        if (lo === Infinity) continue;
        const x = left + px + 0.5;
        ctx.moveTo(x, mid - hi * scale);
        ctx.lineTo(x, mid - lo * scale + 0.5);
      }
    } else {
      for (let i = 0; i < count; i += 1) {
        const y = mid - data[i] * scale;
        if (i === 0) ctx.moveTo(xOf(i), y);
        else ctx.lineTo(xOf(i), y);
      }
    }
    ctx.stroke();
    ctx.restore();
  }
}

function stageRows(labels) {
  const known = labels.filter((l) => AASM_ORDER.includes(l));
  if (known.length === labels.length) return AASM_ORDER.filter((l) => labels.includes(l));
  return labels.slice();
}

export function mount(element, options) {
  const { control, payload, value, suggestion, onChange, t } = options;
  const readonly = options.readonly === true;
  ensureStyles();
  const owner = {};
  const labels = Array.isArray(control.labels) ? control.labels : [];
  const given = Array.isArray(control.hotkeys) && control.hotkeys.length === labels.length ? control.hotkeys : null;
  const stageKeys = given || labels.map((l, i) => AASM_KEYS[l] || (i < 9 ? String(i + 1) : null));
  const hotkeys = readonly ? labels.map(() => null) : claimKeys(owner, stageKeys);
  const [nextKey] = claimKeys(owner, ["u"]);
  const source = control.source || "signal";
  const holder = payload && typeof payload[source] === "object" && payload[source] ? payload[source] : {};
  const epochSeconds = Number(control.epoch_seconds) || 30;
  const suggested = Array.isArray(suggestion) ? suggestion : null;

  let n = Number.isInteger(holder.n_epochs)
    ? holder.n_epochs
    : Number.isFinite(holder.duration_s)
      ? Math.ceil(holder.duration_s / epochSeconds - 1e-9)
      : (Array.isArray(value) && value.length) || (suggested && suggested.length) || 0;

  const box = el("div", "widget widget-epochs");
  box.classList.toggle("is-readonly", readonly);
  const head = header(control, t, "Score each epoch");
  const badge = suggestionBadge(t);
  head.append(badge);
  const bar = el("div", "epoch-bar");
  const where = el("span", "epoch-where");
  const current = el("span", "epoch-current");
  const model = el("span", "epoch-model");
  bar.append(where, current, model);
  const labelBar = el("div", "label-bar");
  labelBar.hidden = readonly;
  const buttons = labels.map((label, index) => {
    const button = el("button", `label-button stage-${String(label).toLowerCase()} lab-${index % 10}`);
    button.type = "button";
    button.append(el("span", null, label));
    if (hotkeys[index]) button.append(el("kbd", null, hotkeys[index]));
    button.addEventListener("click", () => {
      setLabel(index);
      stage.focus();
    });
    labelBar.append(button);
    return button;
  });
  const stage = el("div", "epoch-stage");
  stage.tabIndex = 0;
  stage.setAttribute("role", "application");
  stage.setAttribute("aria-label", t("Signal page: stage keys label, arrows move between epochs"));
  const canvas = el("canvas", "signal-canvas");
  stage.append(canvas);
  const hypno = el("canvas", "hypno-canvas");
  hypno.setAttribute("aria-label", t("Hypnogram of the whole recording; click to jump"));
  const error = el("p", "widget-error");
  error.hidden = true;
  const note = liveNote();
  const help = el("p", "epoch-keys");
  for (const [keys, what] of [
    ["←/→", t("previous or next epoch")],
    [nextKey || "u", t("next unlabelled epoch")],
    ...(readonly ? [] : [["Enter", t("accept the model's stage")]]),
    ["↑/↓", t("pick a channel")],
    ["+/−", t("channel scale")],
  ]) {
    help.append(el("kbd", null, keys), el("span", null, what));
  }
  box.append(head, bar, labelBar, stage, hypno, error, note, help);
  element.append(box);

  let stages = [];
  let confirmed = new Set();
  let at = 0;
  let touched = false;
  let gains = null;
  let channelKinds = [];
  let selectedChannel = -1;
  let shown = null;
  let lastDrawMs = 0;
  const cache = new Map();
  const itemId = whenItemId(options);

  function fetchPage(index) {
    if (cache.has(index)) {
      const hit = cache.get(index);
      cache.delete(index);
      cache.set(index, hit);
      return hit;
    }
    const loading = itemId.then(async (id) => {
      const url = `/api/v1/items/${encodeURIComponent(id)}/signal?page=${index}&source=${encodeURIComponent(source)}`;
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return parsePage(await response.arrayBuffer());
    });
    loading.catch(() => cache.delete(index));
    cache.set(index, loading);
    while (cache.size > MAX_CACHED_PAGES) cache.delete(cache.keys().next().value);
    return loading;
  }

  function resizeCanvas(target, cssHeight) {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(320, target.parentElement.clientWidth || 900);
    target.width = Math.round(width * ratio);
    target.height = Math.round(cssHeight * ratio);
    target.style.height = `${cssHeight}px`; // CSSOM, allowed by the CSP
    const ctx = target.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return { ctx, width, height: cssHeight };
  }

  function rowHeight(count) {
    return Math.max(52, Math.min(110, Math.floor(520 / Math.max(1, count))));
  }

  function drawSignal() {
    if (!shown) return;
    const started = performance.now();
    const { ctx, width, height } = resizeCanvas(canvas, rowHeight(shown.channels.length) * shown.channels.length + 22);
    drawPage(ctx, shown, { width, height, gains, selected: selectedChannel });
    lastDrawMs = performance.now() - started;
    stage.dataset.drawMs = lastDrawMs.toFixed(2);
  }

  async function show(index) {
    at = Math.max(0, Math.min(Math.max(0, n - 1), index));
    renderBar();
    drawHypnogram();
    const wanted = at;
    try {
      const page = await fetchPage(wanted);
      if (wanted !== at) return;
      error.hidden = true;
      if (page.n_pages && page.n_pages !== n && !n) grow(page.n_pages);
      if (!gains || gains.length !== page.channels.length) {
        gains = page.channels.map((c) => DEFAULT_GAIN[c.kind] || autoGain(c.data));
        channelKinds = page.channels.map((c) => c.kind);
      }
      shown = page;
      drawSignal();
      stage.dataset.page = String(page.page);
      if (at + 1 < n) fetchPage(at + 1).catch(() => {});
      if (at > 0) fetchPage(at - 1).catch(() => {});
    } catch {
      if (wanted !== at) return;
      error.hidden = false;
      error.textContent = t("The signal could not be loaded.");
    }
  }

  function grow(count) {
    n = count;
    while (stages.length < n) stages.push(null);
    stages.length = n;
    renderBar();
    drawHypnogram();
  }

  function renderBar() {
    where.textContent = n
      ? t("Epoch %s of %s").replace("%s", at + 1).replace("%s", n) + ` · ${clock(at * epochSeconds)}–${clock((at + 1) * epochSeconds)}`
      : t("Loading…");
    const label = stages[at];
    current.replaceChildren();
    current.className = `epoch-current${label ? ` stage-${String(label).toLowerCase()}` : ""}`;
    current.append(el("span", "epoch-current-label", label ?? t("unlabelled")));
    if (label !== null && label !== undefined) {
      current.append(el("span", "epoch-state", confirmed.has(at) ? t("confirmed") : t("model suggestion")));
    }
    const guess = suggested ? suggested[at] : null;
    model.hidden = guess === null || guess === undefined;
    model.textContent = model.hidden ? "" : readonly ? t("Model: %s").replace("%s", guess) : t("Model: %s (Enter accepts)").replace("%s", guess);
    buttons.forEach((button, i) => button.setAttribute("aria-pressed", String(labels[i] === label)));
    const isSuggested = !touched && suggested && sameJSON(stages, suggested.slice(0, n));
    badge.hidden = !isSuggested;
    box.classList.toggle("is-suggested", Boolean(isSuggested));
  }

  function drawHypnogram() {
    const rows = stageRows(labels);
    const { ctx, width, height } = resizeCanvas(hypno, Math.max(64, rows.length * 15 + 18));
    const left = 44;
    const plotW = width - left - 8;
    const rowH = (height - 14) / rows.length;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    rows.forEach((row, r) => {
      ctx.fillStyle = "#444";
      ctx.fillText(row, 6, r * rowH + rowH / 2);
      ctx.strokeStyle = "#eef0f4";
      ctx.beginPath();
      ctx.moveTo(left, r * rowH + rowH / 2);
      ctx.lineTo(left + plotW, r * rowH + rowH / 2);
      ctx.stroke();
    });
    if (!n) return;
    const step = plotW / n;
    ctx.fillStyle = "rgba(255, 196, 0, 0.35)";
    ctx.fillRect(left + at * step, 0, Math.max(2, step), height - 14);
    for (const [list, colour, width2, onlyUnconfirmed] of [
      [suggested, "#9aa6bd", 1, false],
      [stages, "#1d3f8f", 2, false],
    ]) {
      if (!list) continue;
      ctx.strokeStyle = colour;
      ctx.lineWidth = width2;
      ctx.beginPath();
      let prevY = null;
      for (let i = 0; i < n; i += 1) {
        const row = rows.indexOf(list[i]);
        if (row < 0 || (onlyUnconfirmed && confirmed.has(i))) {
          prevY = null;
          continue;
        }
        const y = row * rowH + rowH / 2;
        const x = left + i * step;
        if (prevY === null) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
        ctx.lineTo(x + step, y);
        prevY = y;
      }
      ctx.stroke();
    }
    ctx.lineWidth = 1;
    // confirmed epochs: a tick along the bottom
    ctx.fillStyle = "#1f7a4d";
    for (const i of confirmed) ctx.fillRect(left + i * step, height - 12, Math.max(1, step), 3);
    ctx.fillStyle = "#555";
    ctx.textBaseline = "bottom";
    ctx.fillText(clock(0), left, height);
    const end = clock(n * epochSeconds);
    ctx.fillText(end, left + plotW - ctx.measureText(end).width, height);
  }

  hypno.addEventListener("click", (event) => {
    const rect = hypno.getBoundingClientRect();
    const x = event.clientX - rect.left - 44;
    const plotW = rect.width - 44 - 8;
    if (x < 0 || !n) return;
    show(Math.floor((x / plotW) * n));
    stage.focus();
  });

  function changed(message) {
    if (readonly) return;
    touched = true;
    if (message) note.textContent = message;
    renderBar();
    drawHypnogram();
    onChange(getValue());
  }

  function setLabel(index) {
    if (readonly || !n) return;
    stages[at] = labels[index];
    confirmed.add(at);
    const labelled = at;
    changed(t("Epoch %s: %s").replace("%s", labelled + 1).replace("%s", labels[index]));
    if (at + 1 < n) show(at + 1);
  }

  function acceptSuggestion() {
    const guess = suggested ? suggested[at] : null;
    if (guess === null || guess === undefined || !labels.includes(guess)) {
      note.textContent = t("No model suggestion for this epoch.");
      return;
    }
    setLabel(labels.indexOf(guess));
  }

  function nextUnlabelled() {
    for (const pass of [(i) => stages[i] === null, (i) => !confirmed.has(i)]) {
      for (let k = 1; k <= n; k += 1) {
        const i = (at + k) % n;
        if (pass(i)) {
          show(i);
          return;
        }
      }
    }
    note.textContent = t("Every epoch is labelled and confirmed.");
  }

  function changeGain(direction, all) {
    if (!gains) return;
    const targets = all || selectedChannel < 0 ? gains.map((_, i) => i) : [selectedChannel];
    for (const c of targets) {
      const index = GAINS.findIndex((g) => g >= gains[c]);
      gains[c] = GAINS[Math.max(0, Math.min(GAINS.length - 1, (index < 0 ? GAINS.length - 1 : index) + direction))];
    }
    drawSignal();
  }

  box.addEventListener("keydown", (event) => {
    if (!focusIsIn(box, event.target) || isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    const handled = {
      ArrowRight: () => show(at + 1),
      ArrowLeft: () => show(at - 1),
      PageDown: () => show(at + 10),
      PageUp: () => show(at - 10),
      Home: () => show(0),
      End: () => show(n - 1),
      Enter: readonly ? null : () => acceptSuggestion(),
      ArrowDown: () => {
        selectedChannel = Math.min((shown?.channels.length || 1) - 1, selectedChannel + 1);
        drawSignal();
      },
      ArrowUp: () => {
        selectedChannel = Math.max(-1, selectedChannel - 1);
        drawSignal();
      },
      "+": () => changeGain(-1, false),
      "=": () => changeGain(-1, false),
      "-": () => changeGain(1, false),
      Delete: readonly ? null : () => {
        if (control.required === false || stages[at] !== null) {
          stages[at] = null;
          confirmed.delete(at);
          changed(t("Epoch %s cleared").replace("%s", at + 1));
        }
      },
    }[key];
    if (handled) {
      event.preventDefault();
      handled();
    }
  });

  function onKey(event) {
    if (event.defaultPrevented || isTyping(event.target)) return;
    const index = hotkeyIndex(hotkeys, event);
    if (index >= 0) {
      event.preventDefault();
      setLabel(index);
      return;
    }
    if (nextKey && hotkeyIndex([nextKey], event) === 0) {
      event.preventDefault();
      nextUnlabelled();
    }
  }
  document.addEventListener("keydown", onKey);
  const resize = new ResizeObserver(() => {
    drawSignal();
    drawHypnogram();
  });
  resize.observe(box);

  function getValue() {
    return n ? stages.slice(0, n) : null;
  }
  function setValue(v) {
    const list = Array.isArray(v) ? v : suggested || [];
    if (!n) n = list.length;
    stages = Array.from({ length: n }, (_, i) => (labels.includes(list[i]) ? list[i] : null));
    confirmed = new Set();
    if (suggested && Array.isArray(v)) {
      for (let i = 0; i < n; i += 1) if (stages[i] !== null && stages[i] !== suggested[i]) confirmed.add(i);
    }
    renderBar();
    drawHypnogram();
  }
  setValue(value);
  show(0);

  return {
    readonly,
    getValue,
    setValue,
    focus() {
      stage.focus();
    },
    destroy() {
      document.removeEventListener("keydown", onKey);
      resize.disconnect();
      releaseKeys(owner);
      box.remove();
    },
    keys: [
      ...keyList(hotkeys, labels),
      { key: "←/→", label: t("previous or next epoch") },
      ...(nextKey ? [{ key: nextKey, label: t("next unlabelled epoch") }] : []),
      ...(readonly ? [] : [{ key: "Enter", label: t("accept the model's stage") }]),
    ],
    get lastDrawMs() {
      return lastDrawMs;
    },
    get epoch() {
      return at;
    },
    get channelKinds() {
      return channelKinds;
    },
  };
}
