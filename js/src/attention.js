// fmwidgets attention view (anywidget ES module): heatmap, head view and model view.
//
// The kernel sends only what is on screen: one layer as float16 bytes (`layer_data`, for the
// heatmap and the head view) or small uint8 thumbnails of every head (`grid`, for the model
// view).  Changing the layer sets `layer`; the kernel answers with that layer's bytes.
// Tokens come from models and user data: they are only ever written with textContent.

import {
  decodeLayer, headColor, headMatrix, links, matrixPixels, toBytes,
} from "./attention_core.js";

const ROW = 18; // px per token row in the head view

const CSS = `
.fm-attn { font: 13px/1.3 system-ui, sans-serif; color: #222; }
.fm-attn-bar { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 6px; }
.fm-attn-bar button { border: 1px solid #bbb; background: #f6f6f6; border-radius: 4px; padding: 2px 8px; cursor: pointer; }
.fm-attn-bar button.fm-on { background: #2d6cdf; color: #fff; border-color: #2d6cdf; }
.fm-attn-toggle { display: inline-flex; align-items: center; gap: 2px; font-size: 12px; }
.fm-attn-status { color: #777; font-size: 12px; }
.fm-attn-body { position: relative; max-height: 640px; overflow: auto; }
.fm-attn-cols { display: flex; align-items: flex-start; }
.fm-attn-col > div { height: ${ROW}px; line-height: ${ROW}px; padding: 0 4px; white-space: pre; cursor: default; }
.fm-attn-col.fm-left > div { text-align: right; }
.fm-attn-col > div.fm-special { color: #999; }
.fm-attn-col > div.fm-focus { background: #ffe9a8; }
.fm-attn-tip { position: absolute; pointer-events: none; background: #fff; border: 1px solid #ccc; padding: 2px 6px; font-size: 12px; white-space: pre; }
.fm-attn-grid { display: grid; gap: 3px; align-items: center; }
.fm-attn-grid canvas { width: 52px; height: 52px; image-rendering: pixelated; cursor: pointer; border: 1px solid #ddd; }
`;

function el(tag, props = {}, parent = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") node.textContent = v;
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v);
  }
  if (parent) parent.appendChild(node);
  return node;
}

function ctx2d(canvas) {
  return canvas.getContext ? canvas.getContext("2d") : null;
}

function paint(canvas, pixels, w, h) {
  canvas.width = w;
  canvas.height = h;
  const ctx = ctx2d(canvas);
  if (!ctx) return; // no canvas support (tests without a browser)
  ctx.putImageData(new ImageData(pixels, w, h), 0, 0);
}

// The static picture displayed just before the widget (for notebooks opened without a kernel)
// is redundant once the widget renders.
function hideFallback(model) {
  const id = model.get("fallback_id");
  if (!id || typeof document === "undefined") return;
  for (const node of document.getElementsByClassName(id)) node.style.display = "none";
}

function render({ model, el: host }) {
  hideFallback(model);
  const root = el("div", { className: "fm-attn" }, host);
  el("style", { text: CSS }, root);
  const bar = el("div", { className: "fm-attn-bar" }, root);
  const viewButtons = {};
  for (const [name, label] of [["heatmap", "Heatmap"], ["head", "Head view"], ["model", "Model view"]]) {
    const b = el("button", { text: label, "data-view": name }, bar);
    b.addEventListener("click", () => { model.set("view", name); model.save_changes(); });
    viewButtons[name] = b;
  }
  const layerSel = el("select", { "aria-label": "layer" }, bar);
  const headSel = el("select", { "aria-label": "head" }, bar);
  const toggles = el("span", { className: "fm-attn-toggles" }, bar);
  const status = el("span", { className: "fm-attn-status" }, bar);
  const body = el("div", { className: "fm-attn-body" }, root);

  layerSel.addEventListener("change", () => { model.set("layer", Number(layerSel.value)); model.save_changes(); });
  headSel.addEventListener("change", () => { model.set("head", Number(headSel.value)); model.save_changes(); });

  let cache = { key: null, layer: null };
  function currentLayer() {
    const heads = model.get("n_heads");
    const T = model.get("tokens").length;
    const raw = model.get("layer_data");
    const key = `${model.get("data_layer")}:${toBytes(raw).byteLength}:${heads}:${T}`;
    if (cache.key !== key || cache.raw !== raw) cache = { key, raw, layer: decodeLayer(raw, heads, T) };
    return cache.layer;
  }

  function fillControls() {
    const L = model.get("n_layers");
    const H = model.get("n_heads");
    if (layerSel.options.length !== L) {
      layerSel.replaceChildren();
      for (let l = 0; l < L; l++) el("option", { value: String(l), text: `layer ${l}` }, layerSel);
    }
    if (headSel.options.length !== H + 1) {
      headSel.replaceChildren();
      el("option", { value: "-1", text: "mean of heads" }, headSel);
      for (let h = 0; h < H; h++) el("option", { value: String(h), text: `head ${h}` }, headSel);
    }
    layerSel.value = String(model.get("layer"));
    headSel.value = String(model.get("head"));
    const on = model.get("heads_on");
    toggles.replaceChildren();
    for (let h = 0; h < H; h++) {
      const label = el("label", { className: "fm-attn-toggle" }, toggles);
      const box = el("input", { type: "checkbox", "data-head": String(h) }, label);
      box.checked = on[h] !== false;
      box.style.accentColor = headColor(h, H);
      box.addEventListener("change", () => {
        const next = Array.from({ length: H }, (_, i) => (i === h ? box.checked : on[i] !== false));
        model.set("heads_on", next);
        model.save_changes();
      });
      el("span", { text: String(h) }, label).style.color = headColor(h, H);
    }
    const view = model.get("view");
    for (const [name, b] of Object.entries(viewButtons)) b.classList.toggle("fm-on", name === view);
    layerSel.style.display = view === "model" ? "none" : "";
    headSel.style.display = view === "heatmap" ? "" : "none";
    toggles.style.display = view === "head" ? "" : "none";
  }

  function tokenColumn(parent, side, tokens, special) {
    const col = el("div", { className: `fm-attn-col fm-${side}` }, parent);
    tokens.forEach((tok, i) => {
      const d = el("div", { text: tok, "data-index": String(i), className: special[i] ? "fm-special" : "" }, col);
      d.title = `${i}: ${tok}`;
    });
    return col;
  }

  function drawHead(layer) {
    const tokens = model.get("tokens");
    const special = model.get("special");
    const H = model.get("n_heads");
    const T = tokens.length;
    const cols = el("div", { className: "fm-attn-cols" }, body);
    const left = tokenColumn(cols, "left", tokens, special);
    const canvas = el("canvas", { className: "fm-attn-lines" }, cols);
    const right = tokenColumn(cols, "right", tokens, special);
    canvas.width = 180;
    canvas.height = T * ROW;
    canvas.style.width = "180px";
    canvas.style.height = `${T * ROW}px`;
    const headsOn = model.get("heads_on");
    const drawLines = (focus) => {
      const found = links(layer, H, T, headsOn, focus, focus ? 0.005 : 0.02);
      canvas.dataset.lines = String(found.length);
      const ctx = ctx2d(canvas);
      if (!ctx) return;
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.lineWidth = 2;
      for (const { head, from, to, weight } of found) {
        ctx.strokeStyle = headColor(head, H);
        ctx.globalAlpha = Math.min(1, weight);
        ctx.beginPath();
        ctx.moveTo(0, from * ROW + ROW / 2);
        ctx.lineTo(canvas.width, to * ROW + ROW / 2);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
    };
    const hover = (col, side) => {
      col.addEventListener("mouseover", (ev) => {
        const idx = ev.target && ev.target.dataset ? ev.target.dataset.index : undefined;
        if (idx === undefined) return;
        for (const d of body.querySelectorAll(".fm-focus")) d.classList.remove("fm-focus");
        ev.target.classList.add("fm-focus");
        drawLines({ side, index: Number(idx) });
      });
      col.addEventListener("mouseleave", () => {
        for (const d of body.querySelectorAll(".fm-focus")) d.classList.remove("fm-focus");
        drawLines(null);
      });
    };
    hover(left, "left");
    hover(right, "right");
    drawLines(null);
  }

  function drawHeatmap(layer) {
    const tokens = model.get("tokens");
    const T = tokens.length;
    const head = model.get("head");
    const matrix = headMatrix(layer, model.get("n_heads"), T, head);
    const canvas = el("canvas", { className: "fm-attn-heatmap" }, body);
    paint(canvas, matrixPixels(matrix, T, T), T, T);
    const side = Math.max(240, Math.min(600, T * 14));
    canvas.style.width = `${side}px`;
    canvas.style.height = `${side}px`;
    canvas.style.imageRendering = "pixelated";
    const tip = el("div", { className: "fm-attn-tip" }, body);
    tip.style.display = "none";
    canvas.addEventListener("mousemove", (ev) => {
      const i = Math.min(T - 1, Math.floor((ev.offsetY / side) * T));
      const j = Math.min(T - 1, Math.floor((ev.offsetX / side) * T));
      tip.textContent = `${tokens[i]} → ${tokens[j]}: ${matrix[i * T + j].toFixed(3)}`;
      tip.style.left = `${ev.offsetX + 12}px`;
      tip.style.top = `${ev.offsetY + 12}px`;
      tip.style.display = "";
    });
    canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    el("div", { className: "fm-attn-status", text: `rows: query token, columns: key token (${head < 0 ? "mean of heads" : `head ${head}`})` }, body);
  }

  function drawModel() {
    const L = model.get("n_layers");
    const H = model.get("n_heads");
    const s = model.get("grid_size");
    const grid = toBytes(model.get("grid"));
    if (grid.byteLength !== L * H * s * s || s === 0) {
      status.textContent = "loading the model view…";
      return;
    }
    const box = el("div", { className: "fm-attn-grid" }, body);
    box.style.gridTemplateColumns = `auto repeat(${H}, 56px)`;
    el("span", { text: "" }, box);
    for (let h = 0; h < H; h++) el("span", { text: `head ${h}` }, box).style.fontSize = "11px";
    for (let l = 0; l < L; l++) {
      el("span", { text: `layer ${l}` }, box).style.fontSize = "11px";
      for (let h = 0; h < H; h++) {
        const c = el("canvas", { "data-layer": String(l), "data-head": String(h), title: `layer ${l}, head ${h}` }, box);
        const off = (l * H + h) * s * s;
        paint(c, matrixPixels(grid.subarray(off, off + s * s), s, s, 255), s, s);
        c.addEventListener("click", () => {
          model.set("layer", l);
          model.set("head", h);
          model.set("view", "heatmap");
          model.save_changes();
        });
      }
    }
  }

  function draw() {
    fillControls();
    body.replaceChildren();
    status.textContent = "";
    const view = model.get("view");
    if (view === "model") return drawModel();
    const layer = currentLayer();
    if (!layer || model.get("data_layer") !== model.get("layer")) {
      status.textContent = `loading layer ${model.get("layer")}…`;
      return;
    }
    if (view === "head") drawHead(layer);
    else drawHeatmap(layer);
  }

  const events = ["layer_data", "data_layer", "grid", "view", "head", "heads_on", "tokens"];
  for (const name of events) model.on(`change:${name}`, draw);
  model.on("change:layer", () => { layerSel.value = String(model.get("layer")); draw(); });
  draw();
  return () => {
    for (const name of [...events, "layer"]) model.off(`change:${name}`);
    root.remove();
  };
}

export default { render };
