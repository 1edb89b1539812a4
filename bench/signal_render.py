"""Sleep-staging page draw time in headless chromium; prints JSON.

A 30-s page of 8 EEG channels at 256 Hz (7,680 samples each, synthetic PSG) is drawn by the
epochs widget at the 1280×800 labeling width. Target: each draw < 100 ms on a modest laptop.

* `draw_page_ms`: `drawPage()` alone on the parsed page (canvas already sized), repeated, with
  a pixel read-back so the rasterisation is inside the measurement.
* `widget_draw_ms`: the widget's own figure per page while paging with → (canvas resize plus
  recording the drawing; rasterisation happens later). `key_to_page_ms`: key press → the new
  page drawn and read back, measured in the page, including the prefetched signal request
  and parsing (pages come from a local stub of the signal endpoint, already encoded).

No database or server of ours is needed: /static is served from the source tree by a small
HTTP server on 127.0.0.1 and the signal endpoint is answered by request interception with
the real binary page format (`datadam.media.signals.encode_page`).
Run: `python bench/signal_render.py [--pages 20] [--repeat 30]`.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from tests.browser.support import launch_chromium  # noqa: E402
from tests.media.harness import open_harness  # noqa: E402

from datadam.media.signals import Channel, SignalPage, encode_page, synthetic_psg  # noqa: E402

STATIC = ROOT / "src" / "datadam" / "web" / "static"
CHANNELS = tuple(
    f"EEG {name}"
    for name in ("F3-M2", "F4-M1", "C3-M2", "C4-M1", "O1-M2", "O2-M1", "Fz-Cz", "Pz-Oz")
)
SFREQ = 256.0


class _Static(SimpleHTTPRequestHandler):
    extensions_map = {".js": "text/javascript", ".css": "text/css", ".json": "application/json"}

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if not path.startswith("/static/"):
            return str(STATIC / "__nothing__")
        return super().translate_path(path.removeprefix("/static"))

    def log_message(self, *args: Any) -> None:
        pass


def _pages(n_pages: int) -> list[bytes]:
    _, data = synthetic_psg(11, n_pages, sfreq=SFREQ, channels=CHANNELS)
    per = int(30 * SFREQ)
    return [
        encode_page(
            SignalPage(
                k,
                n_pages,
                30.0,
                tuple(
                    Channel(
                        label,
                        "µV",
                        "eeg",
                        SFREQ,
                        np.asarray(values[k * per : (k + 1) * per], np.float32),
                    )
                    for label, values in data.items()
                ),
            )
        )
        for k in range(n_pages)
    ]


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    pages = _pages(args.pages)
    handler = functools.partial(_Static, directory=str(STATIC))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    from playwright.sync_api import sync_playwright

    control = {
        "name": "stages",
        "type": "epochs",
        "source": "signal",
        "labels": ["W", "N1", "N2", "N3", "REM"],
        "hotkeys": ["w", "1", "2", "3", "r"],
        "epoch_seconds": 30,
    }
    payload = {"signal": {"media": "bench", "n_epochs": args.pages}}
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 800})

            def serve_signal(route: Any) -> None:
                index = int(route.request.url.split("page=", 1)[1].split("&", 1)[0])
                route.fulfill(
                    status=200, body=pages[index], content_type="application/octet-stream"
                )

            page.route("**/api/v1/items/*/signal*", serve_signal)
            open_harness(page, controls=[control], payload=payload, item_id=1)
            page.wait_for_selector(".epoch-stage[data-page='0']", state="attached")
            draw_only = page.evaluate(
                """async (repeat) => {
                const mod = await import('/static/js/widgets/epochs.js');
                const r = await fetch('/api/v1/items/1/signal?page=0');
                const data = mod.parsePage(await r.arrayBuffer());
                const canvas = document.createElement('canvas');
                const ratio = window.devicePixelRatio || 1;
                const width = 1100, height = 8 * 65 + 22;
                canvas.width = width * ratio; canvas.height = height * ratio;
                document.body.append(canvas);
                const ctx = canvas.getContext('2d');
                ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
                const gains = data.channels.map(() => 50);
                const out = [];
                for (let i = 0; i < repeat; i += 1) {
                    const t0 = performance.now();
                    mod.drawPage(ctx, data, {width, height, gains});
                    ctx.getImageData(0, 0, 1, 1);  // wait for the drawing to finish
                    out.push(performance.now() - t0);
                }
                canvas.remove();
                return out;
            }""",
                args.repeat,
            )
            page.evaluate(
                """() => {
                window.__keyToPage = [];
                const stage = document.querySelector('.epoch-stage');
                const canvas = stage.querySelector('canvas');
                let t0 = null;
                document.addEventListener('keydown', () => { t0 = performance.now(); }, true);
                new MutationObserver(() => {
                    if (t0 === null) return;
                    canvas.getContext('2d').getImageData(0, 0, 1, 1);  // drawing finished
                    window.__keyToPage.push(performance.now() - t0);
                    t0 = null;
                }).observe(stage, {attributes: true, attributeFilter: ['data-page']});
            }"""
            )
            widget_ms: list[float] = []
            for index in range(1, args.pages):
                page.keyboard.press("ArrowRight")
                page.wait_for_selector(f".epoch-stage[data-page='{index}']", state="attached")
                widget_ms.append(float(page.get_attribute(".epoch-stage", "data-draw-ms") or "nan"))
            key_ms = page.evaluate("window.__keyToPage")
            browser.close()
    finally:
        server.shutdown()
    result = {
        "benchmark": "signal_render",
        "channels": len(CHANNELS),
        "sfreq_hz": SFREQ,
        "samples_per_channel": int(30 * SFREQ),
        "viewport": "1280x800",
        "draw_page_ms": _stats(draw_only),
        "widget_draw_ms": _stats(widget_ms),
        "key_to_page_ms": _stats(key_ms),
        "target_ms": 100,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "meets_target_median": statistics.median(draw_only) < 100
        and statistics.median(key_ms) < 100,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
