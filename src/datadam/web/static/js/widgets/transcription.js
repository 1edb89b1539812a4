// transcription: a text box under an audio player. The player keys work while typing:
// Ctrl+Space or Alt+P play/pause, Alt+Up/Down speed, Alt+Left/Right seek 5 s. With `readonly`
// the text is read-only; the player keys stay (they never change the answer).
import { el, ensureStyles, header, mediaUrl, whenItemId } from "./_common.js";
import { textArea } from "./text.js";

const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

export function mount(element, options) {
  const { control, value, suggestion, onChange, t } = options;
  const readonly = options.readonly === true;
  ensureStyles();
  const box = el("div", "widget widget-transcription");
  box.classList.toggle("is-readonly", readonly);
  const head = header(control, t, "Transcribe the audio");
  const audio = el("audio", "widget-audio");
  audio.controls = true;
  audio.preload = "metadata";
  whenItemId(options).then((id) => {
    audio.src = mediaUrl(id, control.source || "audio");
  });
  const status = el("p", "player-status");
  status.setAttribute("aria-live", "polite");
  const error = el("p", "widget-error");
  error.hidden = true;
  audio.addEventListener("error", () => {
    error.hidden = false;
    error.textContent = t("The audio could not be loaded.");
  });
  const help = el("p", "player-keys");
  for (const [keys, what] of [
    ["Ctrl+Space / Alt+P", t("play or pause")],
    ["Alt+↑ / Alt+↓", t("speed")],
    ["Alt+← / Alt+→", t("back or forward 5 s")],
  ]) {
    help.append(el("kbd", null, keys), el("span", null, what));
  }
  const field = textArea(control, t, { value, suggestion, onChange, rows: 6, readonly });
  head.append(field.badge);
  const foot = el("div", "widget-foot");
  foot.append(status, field.counter);
  box.append(head, audio, help, error, field.area, foot);
  element.append(box);

  let speed = 2;
  function say(text) {
    status.textContent = text;
  }
  function toggle() {
    if (audio.paused) audio.play().catch(() => say(t("The audio could not be played.")));
    else audio.pause();
  }
  function onKey(event) {
    const code = event.code;
    if ((event.ctrlKey && (event.key === " " || code === "Space")) || (event.altKey && (code === "KeyP" || event.key === "p"))) {
      event.preventDefault();
      toggle();
      return;
    }
    if (!event.altKey) return;
    if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      speed = Math.max(0, Math.min(SPEEDS.length - 1, speed + (event.key === "ArrowUp" ? 1 : -1)));
      audio.playbackRate = SPEEDS[speed];
      say(t("Speed %s×").replace("%s", SPEEDS[speed]));
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      const step = event.key === "ArrowRight" ? 5 : -5;
      const end = Number.isFinite(audio.duration) ? audio.duration : Infinity;
      audio.currentTime = Math.max(0, Math.min(end, audio.currentTime + step));
      say(t("At %s s").replace("%s", audio.currentTime.toFixed(1)));
    }
  }
  document.addEventListener("keydown", onKey);

  return {
    readonly,
    getValue: field.getValue,
    setValue: field.setValue,
    focus() {
      field.area.focus();
    },
    destroy() {
      document.removeEventListener("keydown", onKey);
      audio.pause();
      audio.removeAttribute("src");
      box.remove();
    },
    keys: [
      { key: "Ctrl+Space", label: t("play or pause") },
      { key: "Alt+↑/↓", label: t("speed") },
      { key: "Alt+←/→", label: t("back or forward 5 s") },
    ],
    audio,
  };
}
