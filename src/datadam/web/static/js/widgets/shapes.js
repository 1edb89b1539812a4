// shapes: labelled boxes and polygons on an image, in image pixel coordinates.
// A small SVG editor of our own: Annotorious 3 sets `style` attributes with setAttribute,
// which our CSP (style-src 'self', no 'unsafe-inline') blocks, and it has no keyboard editing.
//
// Mouse: drag to draw a box (b), click points for a polygon (p; click the first point, press
// Enter or double-click to close), drag a shape to move it, drag its handles to resize,
// wheel to zoom, drag the background to pan. Keyboard (focus on the image): Tab / Shift+Tab
// select shapes, arrows nudge (Shift: 10 px), Alt+arrows resize, Delete removes, label keys
// relabel, Enter adds a shape of the current tool in the middle of the view, +/-/0 zoom.
// `readonly`: only viewing stays (select, zoom, pan; arrows pan); no tools, labels or deletes.
import {
  claimKeys, el, ensureStyles, focusIsIn, header, hotkeyIndex, hotkeysFor, isTyping, keyList, liveNote,
  mediaUrl, releaseKeys, sameJSON, suggestionBadge, svg, whenItemId,
} from "./_common.js";

const round = (v) => Math.round(v * 100) / 100;

function positive(v) {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : null;
}

export function mount(element, options) {
  const { control, payload, value, suggestion, onChange, t } = options;
  const readonly = options.readonly === true;
  ensureStyles();
  const owner = {};
  const labels = Array.isArray(control.labels) ? control.labels : [];
  const kinds = Array.isArray(control.kinds) && control.kinds.length ? control.kinds : ["box", "polygon"];
  const hotkeys = readonly ? labels.map(() => null) : claimKeys(owner, hotkeysFor(control));
  const [boxKey, polygonKey] = readonly
    ? [null, null]
    : claimKeys(owner, [kinds.includes("box") ? "b" : null, kinds.includes("polygon") ? "p" : null]);
  const source = control.source || "image";
  const holder = payload && typeof payload[source] === "object" && payload[source] ? payload[source] : payload || {};
  let W = positive(holder.width);
  let H = positive(holder.height);

  const box = el("div", "widget widget-shapes");
  box.classList.toggle("is-readonly", readonly);
  const head = header(control, t, "Draw shapes");
  const badge = suggestionBadge(t);
  head.append(badge);
  const toolbar = el("div", "shape-toolbar");
  const toolButtons = {};
  for (const [tool, key, name] of [
    ["select", "Esc", t("Select")],
    ["box", boxKey, t("Box")],
    ["polygon", polygonKey, t("Polygon")],
  ]) {
    if (readonly || (tool !== "select" && !kinds.includes(tool))) continue;
    const button = el("button", "tool-button");
    button.type = "button";
    button.append(el("span", null, name));
    if (key) button.append(el("kbd", null, key));
    button.addEventListener("click", () => {
      setTool(tool);
      stage.focus();
    });
    toolButtons[tool] = button;
    toolbar.append(button);
  }
  const labelButtons = labels.map((label, index) => {
    const button = el("button", `label-button lab-${index % 10}`);
    button.type = "button";
    button.append(el("span", null, label));
    if (hotkeys[index]) button.append(el("kbd", null, hotkeys[index]));
    button.addEventListener("click", () => {
      pickLabel(index);
      stage.focus();
    });
    if (!readonly) toolbar.append(button);
    return button;
  });
  for (const [text, key, action] of [
    ["−", "-", () => zoom(1.25)],
    ["+", "+", () => zoom(0.8)],
    [t("Fit"), "0", () => fit()],
  ]) {
    const button = el("button", "zoom-button");
    button.type = "button";
    button.append(el("span", null, text), el("kbd", null, key));
    button.addEventListener("click", action);
    toolbar.append(button);
  }

  const stage = el("div", "shapes-stage");
  stage.tabIndex = 0;
  stage.setAttribute("role", "application");
  stage.setAttribute(
    "aria-label",
    readonly ? t("Image: Tab selects shapes, arrows pan") : t("Image: Tab selects shapes, arrows move, Delete removes"),
  );
  const canvas = svg("svg", { class: "shapes-svg", preserveAspectRatio: "xMidYMid meet" });
  const image = svg("image", { x: 0, y: 0, class: "shapes-image" });
  const shapesLayer = svg("g", { class: "shapes-layer" });
  const draftLayer = svg("g", { class: "draft-layer" });
  canvas.append(image, shapesLayer, draftLayer);
  stage.append(canvas);
  const error = el("p", "widget-error");
  error.hidden = true;
  const note = liveNote();
  const list = el("ol", "shape-list");
  box.append(head, toolbar, stage, error, note, list);
  element.append(box);

  let shapes = [];
  let selected = -1;
  let tool = readonly ? "select" : kinds[0];
  let labelIndex = 0;
  let draft = null; // polygon points being drawn, or a box being dragged
  let drag = null;
  let view = { x: 0, y: 0, w: W || 100, h: H || 100 };
  let touched = false;

  const probe = new Image();
  probe.addEventListener("load", () => {
    W = W || probe.naturalWidth;
    H = H || probe.naturalHeight;
    image.setAttribute("width", W);
    image.setAttribute("height", H);
    fit();
  });
  probe.addEventListener("error", () => {
    error.hidden = false;
    error.textContent = t("The image could not be loaded.");
  });
  whenItemId(options).then((id) => {
    const url = mediaUrl(id, source);
    image.setAttribute("href", url);
    probe.src = url;
  });
  if (W && H) {
    image.setAttribute("width", W);
    image.setAttribute("height", H);
  }

  // ---------------------------------------------------------------- view

  function applyView() {
    canvas.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    render();
  }
  function fit() {
    view = { x: 0, y: 0, w: W || 100, h: H || 100 };
    applyView();
  }
  function zoom(factor, cx, cy) {
    const x = cx ?? view.x + view.w / 2;
    const y = cy ?? view.y + view.h / 2;
    const w = Math.max(10, Math.min((W || 100) * 8, view.w * factor));
    const h = (view.h / view.w) * w;
    view = { x: x - ((x - view.x) / view.w) * w, y: y - ((y - view.y) / view.h) * h, w, h };
    applyView();
  }
  function unitsPerPixel() {
    const rect = canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) return 1;
    return Math.max(view.w / rect.width, view.h / rect.height);
  }
  function toImage(event) {
    const matrix = canvas.getScreenCTM();
    if (!matrix) return [0, 0];
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    return [point.x, point.y];
  }
  const clampX = (x) => Math.max(0, Math.min(W || Infinity, x));
  const clampY = (y) => Math.max(0, Math.min(H || Infinity, y));

  // ---------------------------------------------------------------- drawing

  function render() {
    const unit = unitsPerPixel();
    const nodes = [];
    shapes.forEach((shape, index) => {
      const cls = `shape lab-${Math.max(0, labels.indexOf(shape.label)) % 10}${index === selected ? " selected" : ""}`;
      const node =
        shape.kind === "box"
          ? svg("rect", { x: shape.x, y: shape.y, width: shape.w, height: shape.h, class: cls })
          : svg("polygon", { points: shape.points.map((p) => p.join(",")).join(" "), class: cls });
      node.setAttribute("vector-effect", "non-scaling-stroke");
      node.dataset.index = String(index);
      const [lx, ly] = shape.kind === "box" ? [shape.x, shape.y] : shape.points[0];
      const tag = svg("text", { x: lx + 2 * unit, y: ly - 4 * unit, class: "shape-tag", "font-size": 13 * unit });
      tag.textContent = `${index + 1} ${shape.label}`;
      nodes.push(node, tag);
    });
    if (!readonly && selected >= 0 && shapes[selected]) {
      for (const [hx, hy, handle] of handlesOf(shapes[selected])) {
        const size = 9 * unit;
        const node = svg("rect", { x: hx - size / 2, y: hy - size / 2, width: size, height: size, class: "handle" });
        node.setAttribute("vector-effect", "non-scaling-stroke");
        node.dataset.handle = String(handle);
        nodes.push(node);
      }
    }
    shapesLayer.replaceChildren(...nodes);
    renderDraft(unit);
    renderList();
    const shown = !touched && Array.isArray(suggestion) && suggestion.length > 0 && sameJSON(getValue(), clean(suggestion));
    badge.hidden = !shown;
    box.classList.toggle("is-suggested", shown);
    for (const [name, button] of Object.entries(toolButtons)) button.setAttribute("aria-pressed", String(name === tool));
    labelButtons.forEach((button, i) => button.setAttribute("aria-pressed", String(i === labelIndex)));
    stage.dataset.tool = tool;
  }

  function renderDraft(unit) {
    const nodes = [];
    if (draft?.kind === "box") {
      const [x, y, w, h] = boxFrom(draft.from, draft.to);
      nodes.push(svg("rect", { x, y, width: w, height: h, class: "draft", "vector-effect": "non-scaling-stroke" }));
    } else if (draft?.kind === "polygon" && draft.points.length) {
      const pts = draft.cursor ? [...draft.points, draft.cursor] : draft.points;
      nodes.push(svg("polyline", { points: pts.map((p) => p.join(",")).join(" "), class: "draft", "vector-effect": "non-scaling-stroke" }));
      const [fx, fy] = draft.points[0];
      nodes.push(svg("circle", { cx: fx, cy: fy, r: 5 * unit, class: "draft-start" }));
    }
    draftLayer.replaceChildren(...nodes);
  }

  function handlesOf(shape) {
    if (shape.kind === "box") {
      const { x, y, w, h } = shape;
      return [[x, y, "nw"], [x + w, y, "ne"], [x, y + h, "sw"], [x + w, y + h, "se"]];
    }
    return shape.points.map(([x, y], i) => [x, y, i]);
  }

  function renderList() {
    const items = shapes.map((shape, index) => {
      const li = el("li", `shape-item${index === selected ? " selected" : ""}`);
      li.append(el("span", `span-tag lab-${Math.max(0, labels.indexOf(shape.label)) % 10}`, shape.label));
      const where =
        shape.kind === "box"
          ? `${t("box")} ${Math.round(shape.x)},${Math.round(shape.y)} ${Math.round(shape.w)}×${Math.round(shape.h)}`
          : `${t("polygon")} ${shape.points.length} ${t("points")}`;
      li.append(el("span", "shape-where", where));
      const pick = el("button", "shape-select", t("Select"));
      pick.type = "button";
      pick.addEventListener("click", () => {
        select(index);
        stage.focus();
      });
      if (readonly) {
        li.append(pick);
        return li;
      }
      const del = el("button", "shape-delete", t("Delete"));
      del.type = "button";
      del.setAttribute("aria-label", t("Delete shape %s").replace("%s", index + 1));
      del.addEventListener("click", () => {
        selected = index;
        removeSelected();
        stage.focus();
      });
      li.append(pick, del);
      return li;
    });
    list.replaceChildren(...items);
  }

  function boxFrom([x1, y1], [x2, y2]) {
    const x = clampX(Math.min(x1, x2));
    const y = clampY(Math.min(y1, y2));
    return [x, y, clampX(Math.max(x1, x2)) - x, clampY(Math.max(y1, y2)) - y];
  }

  // ---------------------------------------------------------------- editing

  function changed(message) {
    if (readonly) return;
    touched = true;
    if (message) note.textContent = message;
    render();
    onChange(getValue());
  }
  function setTool(name) {
    if (!toolButtons[name]) {
      render();
      return;
    }
    tool = name;
    draft = null;
    note.textContent = { select: t("Select tool"), box: t("Box tool: drag, or press Enter"), polygon: t("Polygon tool: click points, Enter closes") }[name];
    render();
  }
  function pickLabel(index) {
    labelIndex = index;
    if (selected >= 0 && shapes[selected].label !== labels[index]) {
      shapes[selected] = { ...shapes[selected], label: labels[index] };
      changed(t("Label: %s").replace("%s", labels[index]));
    } else {
      note.textContent = t("Label: %s").replace("%s", labels[index]);
      render();
    }
  }
  function select(index) {
    selected = index;
    if (index >= 0) {
      labelIndex = Math.max(0, labels.indexOf(shapes[index].label));
      note.textContent = t("Shape %s selected").replace("%s", index + 1);
    }
    render();
  }
  function add(shape) {
    if (readonly) return;
    shapes.push(shape);
    selected = shapes.length - 1;
    changed(t("Shape %s added").replace("%s", shapes.length));
  }
  function removeSelected() {
    if (readonly || selected < 0) return;
    shapes.splice(selected, 1);
    selected = Math.min(selected, shapes.length - 1);
    changed(t("Shape deleted"));
  }
  function moveSelected(dx, dy) {
    const shape = shapes[selected];
    if (shape.kind === "box") {
      const x = Math.max(0, Math.min((W || Infinity) - shape.w, shape.x + dx));
      const y = Math.max(0, Math.min((H || Infinity) - shape.h, shape.y + dy));
      shapes[selected] = { ...shape, x, y };
    } else {
      const xs = shape.points.map((p) => p[0]);
      const ys = shape.points.map((p) => p[1]);
      const mx = Math.max(-Math.min(...xs), Math.min((W || Infinity) - Math.max(...xs), dx));
      const my = Math.max(-Math.min(...ys), Math.min((H || Infinity) - Math.max(...ys), dy));
      shapes[selected] = { ...shape, points: shape.points.map(([x, y]) => [x + mx, y + my]) };
    }
  }
  function resizeSelected(dw, dh) {
    const shape = shapes[selected];
    if (shape.kind === "box") {
      const w = Math.max(1, Math.min((W || Infinity) - shape.x, shape.w + dw));
      const h = Math.max(1, Math.min((H || Infinity) - shape.y, shape.h + dh));
      shapes[selected] = { ...shape, w, h };
    } else {
      const cx = shape.points.reduce((s, p) => s + p[0], 0) / shape.points.length;
      const cy = shape.points.reduce((s, p) => s + p[1], 0) / shape.points.length;
      const f = 1 + (dw + dh) / 100;
      shapes[selected] = { ...shape, points: shape.points.map(([x, y]) => [clampX(cx + (x - cx) * f), clampY(cy + (y - cy) * f)]) };
    }
  }
  function defaultShape() {
    const cx = view.x + view.w / 2;
    const cy = view.y + view.h / 2;
    const half = Math.min(view.w, view.h) / 8;
    const label = labels[labelIndex];
    if (tool === "polygon") {
      return { kind: "polygon", label, points: [[cx, cy - half], [cx + half, cy], [cx, cy + half], [cx - half, cy]].map(([x, y]) => [clampX(x), clampY(y)]) };
    }
    const [x, y, w, h] = boxFrom([cx - half, cy - half], [cx + half, cy + half]);
    return { kind: "box", label, x, y, w, h };
  }
  function closePolygon() {
    if (draft?.kind === "polygon" && draft.points.length >= 3) {
      const points = draft.points;
      draft = null;
      add({ kind: "polygon", label: labels[labelIndex], points });
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- pointer

  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    stage.focus();
    const [x, y] = toImage(event);
    const target = event.target;
    if (!readonly && target.dataset?.handle !== undefined && selected >= 0) {
      drag = { kind: "handle", handle: target.dataset.handle, start: [x, y], shape: structuredClone(shapes[selected]) };
    } else if (tool === "box") {
      draft = { kind: "box", from: [clampX(x), clampY(y)], to: [clampX(x), clampY(y)] };
    } else if (tool === "polygon") {
      const unit = unitsPerPixel();
      if (!draft) draft = { kind: "polygon", points: [] };
      const first = draft.points[0];
      if (first && draft.points.length >= 3 && Math.hypot(first[0] - x, first[1] - y) < 10 * unit) {
        closePolygon();
      } else {
        draft.points.push([clampX(x), clampY(y)]);
        render();
      }
      return;
    } else if (target.dataset?.index !== undefined) {
      select(Number(target.dataset.index));
      if (readonly) return;
      drag = { kind: "move", start: [x, y], shape: structuredClone(shapes[selected]) };
    } else {
      select(-1);
      drag = { kind: "pan", start: [event.clientX, event.clientY], view: { ...view } };
    }
    canvas.setPointerCapture(event.pointerId);
  });

  canvas.addEventListener("pointermove", (event) => {
    const [x, y] = toImage(event);
    if (draft?.kind === "box") {
      draft.to = [x, y];
      renderDraft(unitsPerPixel());
    } else if (draft?.kind === "polygon") {
      draft.cursor = [clampX(x), clampY(y)];
      renderDraft(unitsPerPixel());
    } else if (drag?.kind === "pan") {
      const unit = unitsPerPixel();
      view = { ...drag.view, x: drag.view.x - (event.clientX - drag.start[0]) * unit, y: drag.view.y - (event.clientY - drag.start[1]) * unit };
      applyView();
    } else if (drag?.kind === "move") {
      shapes[selected] = structuredClone(drag.shape);
      moveSelected(x - drag.start[0], y - drag.start[1]);
      drag.moved = true;
      render();
    } else if (drag?.kind === "handle") {
      const shape = drag.shape;
      if (shape.kind === "box") {
        const fixed = { nw: [shape.x + shape.w, shape.y + shape.h], ne: [shape.x, shape.y + shape.h], sw: [shape.x + shape.w, shape.y], se: [shape.x, shape.y] }[drag.handle];
        const [bx, by, bw, bh] = boxFrom(fixed, [x, y]);
        if (bw > 0 && bh > 0) shapes[selected] = { ...shape, x: bx, y: by, w: bw, h: bh };
      } else {
        const points = shape.points.map((p) => p.slice());
        points[Number(drag.handle)] = [clampX(x), clampY(y)];
        shapes[selected] = { ...shape, points };
      }
      drag.moved = true;
      render();
    }
  });

  canvas.addEventListener("pointerup", () => {
    if (draft?.kind === "box") {
      const [x, y, w, h] = boxFrom(draft.from, draft.to);
      draft = null;
      if (w * h > 4 && w > 1 && h > 1) add({ kind: "box", label: labels[labelIndex], x, y, w, h });
      else render();
    } else if (drag && drag.kind !== "pan" && drag.moved) {
      changed();
    }
    drag = null;
  });
  canvas.addEventListener("dblclick", (event) => {
    if (tool === "polygon" && draft) {
      event.preventDefault();
      if (draft.points.length > 3) draft.points.pop(); // the second click of the double-click
      closePolygon();
    }
  });
  canvas.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const [x, y] = toImage(event);
      zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, x, y);
    },
    { passive: false },
  );

  // ---------------------------------------------------------------- keyboard

  box.addEventListener("keydown", (event) => {
    if (!focusIsIn(stage, event.target) || event.ctrlKey || event.metaKey) return;
    const key = event.key;
    if (key === "Tab" && shapes.length) {
      const next = selected + (event.shiftKey ? -1 : 1);
      if (next >= 0 && next < shapes.length) {
        event.preventDefault();
        select(next);
      } else if (selected < 0 && event.shiftKey) {
        event.preventDefault();
        select(shapes.length - 1);
      } else {
        select(-1); // let Tab leave the image
      }
      return;
    }
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[key];
    if (arrows) {
      event.preventDefault();
      const step = event.shiftKey ? 10 : 1;
      if (selected >= 0 && !readonly) {
        if (event.altKey) resizeSelected(arrows[0] * step, arrows[1] * step);
        else moveSelected(arrows[0] * step, arrows[1] * step);
        changed();
      } else {
        view = { ...view, x: view.x + arrows[0] * view.w * 0.1, y: view.y + arrows[1] * view.h * 0.1 };
        applyView();
      }
      return;
    }
    if (event.altKey) return;
    if (readonly && (key === "Delete" || key === "Backspace" || key === "Enter")) return;
    if (key === "Delete" || key === "Backspace") {
      event.preventDefault();
      if (draft?.kind === "polygon" && draft.points.length) {
        draft.points.pop();
        render();
      } else {
        removeSelected();
      }
    } else if (key === "Enter") {
      event.preventDefault();
      if (closePolygon()) return;
      if (tool === "select") {
        setTool(kinds[0]);
      }
      add(defaultShape());
    } else if (key === "Escape") {
      event.preventDefault();
      draft = null;
      selected = -1;
      setTool("select");
    } else if (key === "+" || key === "=") {
      event.preventDefault();
      zoom(0.8);
    } else if (key === "-") {
      event.preventDefault();
      zoom(1.25);
    } else if (key === "0" && !hotkeys.includes("0")) {
      event.preventDefault();
      fit();
    }
  });

  function onKey(event) {
    if (event.defaultPrevented || isTyping(event.target)) return;
    const index = hotkeyIndex(hotkeys, event);
    if (index >= 0) {
      event.preventDefault();
      pickLabel(index);
      return;
    }
    const tools = hotkeyIndex([boxKey, polygonKey], event);
    if (tools >= 0) {
      event.preventDefault();
      setTool(tools === 0 ? "box" : "polygon");
      stage.focus();
    }
  }
  if (!readonly) document.addEventListener("keydown", onKey);
  const resize = new ResizeObserver(() => render());
  resize.observe(stage);

  // ---------------------------------------------------------------- value

  function clean(list) {
    const out = [];
    for (const s of Array.isArray(list) ? list : []) {
      if (!s || !labels.includes(s.label)) continue;
      if (s.kind === "box" && [s.x, s.y, s.w, s.h].every(Number.isFinite) && s.w > 0 && s.h > 0) {
        out.push({ kind: "box", label: s.label, x: round(s.x), y: round(s.y), w: round(s.w), h: round(s.h) });
      } else if (s.kind === "polygon" && Array.isArray(s.points) && s.points.length >= 3) {
        out.push({ kind: "polygon", label: s.label, points: s.points.map(([x, y]) => [round(x), round(y)]) });
      }
    }
    return out;
  }
  function getValue() {
    return clean(shapes);
  }
  function setValue(v) {
    shapes = clean(v);
    selected = -1;
    render();
  }
  setValue(value);
  if (!readonly) setTool(tool);
  note.textContent = "";
  applyView();

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
    keys: readonly ? [] : [
      ...keyList(hotkeys, labels),
      ...(boxKey ? [{ key: boxKey, label: t("box tool") }] : []),
      ...(polygonKey ? [{ key: polygonKey, label: t("polygon tool") }] : []),
      { key: "Enter", label: t("add a shape / close the polygon") },
      { key: "Tab", label: t("next shape") },
      { key: "←↑↓→", label: t("move (Shift: 10 px, Alt: resize)") },
      { key: "Delete", label: t("delete the shape") },
    ],
  };
}
