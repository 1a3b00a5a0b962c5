// src/attention_core.js
var HALF_TABLE = null;
function halfTable() {
  if (HALF_TABLE) return HALF_TABLE;
  HALF_TABLE = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  return HALF_TABLE;
}
function halfToFloat(h) {
  const sign = h & 32768 ? -1 : 1;
  const exp = h >> 10 & 31;
  const frac = h & 1023;
  if (exp === 0) return sign * Math.pow(2, -14) * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
}
function toBytes(value) {
  if (!value) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(0);
}
function decodeLayer(value, heads, T) {
  const bytes = toBytes(value);
  const n = heads * T * T;
  if (bytes.byteLength !== n * 2 || n === 0) return null;
  const table = halfTable();
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  const halves = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[halves[i]];
  return out;
}
function headMatrix(layer, heads, T, head) {
  const size = T * T;
  if (head >= 0) return layer.subarray(head * size, (head + 1) * size);
  const out = new Float32Array(size);
  for (let h = 0; h < heads; h++) {
    const off = h * size;
    for (let i = 0; i < size; i++) out[i] += layer[off + i];
  }
  for (let i = 0; i < size; i++) out[i] /= heads;
  return out;
}
function links(layer, heads, T, headsOn, focus = null, threshold = 0.02, maxLines = Infinity) {
  const out = [];
  const size = T * T;
  for (let h = 0; h < heads; h++) {
    if (headsOn && headsOn[h] === false) continue;
    const off = h * size;
    for (let i = 0; i < T; i++) {
      if (focus && focus.side === "left" && focus.index !== i) continue;
      for (let j = 0; j < T; j++) {
        if (focus && focus.side === "right" && focus.index !== j) continue;
        const w = layer[off + i * T + j];
        if (w >= threshold) out.push({ head: h, from: i, to: j, weight: w });
      }
    }
  }
  if (out.length <= maxLines) return out;
  return out.sort((a, b) => b.weight - a.weight).slice(0, maxLines);
}
function headColor(h, heads) {
  const hue = Math.round(360 * h / Math.max(1, heads));
  return `hsl(${hue}, 70%, 45%)`;
}
function matrixPixels(values, rows, cols, scale = 1) {
  const px = new Uint8ClampedArray(rows * cols * 4);
  for (let i = 0; i < rows * cols; i++) {
    const v = Math.max(0, Math.min(1, values[i] / scale));
    px[i * 4] = 247 - 239 * v;
    px[i * 4 + 1] = 251 - 203 * v;
    px[i * 4 + 2] = 255 - 148 * v;
    px[i * 4 + 3] = 255;
  }
  return px;
}

// src/attention.js
var ROW = 18;
var MAX_LINES = 2500;
var ALPHA_STEPS = 10;
var LABELLED = 64;
var CSS = `
.fm-attn { font: 13px/1.3 var(--jp-ui-font-family, system-ui, sans-serif); }
.fm-attn-bar { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 6px; }
.fm-attn-bar button { border-radius: 4px; padding: 2px 8px; cursor: pointer; }
.fm-attn-toggle { display: inline-flex; align-items: center; gap: 2px; font-size: 12px; }
.fm-attn-status { color: var(--jp-ui-font-color2, #666); font-size: 12px; }
.fm-attn-body { position: relative; max-height: 640px; overflow: auto; }
.fm-attn-cols { display: flex; align-items: flex-start; }
.fm-attn-col > div { height: ${ROW}px; line-height: ${ROW}px; padding: 0 4px; white-space: pre; cursor: default; }
.fm-attn-col.fm-left > div { text-align: right; }
.fm-attn-col > div.fm-special { color: var(--jp-ui-font-color2, #888); }
.fm-attn-col > div.fm-focus { background: #ffe9a8; color: #222; }
.fm-attn-tip { position: absolute; pointer-events: none; background: var(--jp-layout-color0, #fff); color: var(--jp-ui-font-color1, #222); border: 1px solid var(--jp-border-color1, #ccc); padding: 2px 6px; font-size: 12px; white-space: pre; }
.fm-attn-hm { position: relative; }
.fm-attn-keys { display: flex; align-items: flex-end; }
.fm-attn-keys > div { width: var(--cell); writing-mode: vertical-rl; transform: rotate(180deg); white-space: pre; overflow: hidden; max-height: 90px; font-size: 11px; }
.fm-attn-queries > div { height: var(--cell); line-height: var(--cell); text-align: right; padding-right: 4px; white-space: pre; overflow: hidden; font-size: 11px; }
.fm-attn-grid { display: grid; gap: 3px; align-items: center; }
.fm-attn-grid canvas { width: 52px; height: 52px; image-rendering: pixelated; cursor: pointer; border: 1px solid var(--jp-border-color2, #ddd); }
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
  if (!ctx) return;
  ctx.putImageData(new ImageData(pixels, w, h), 0, 0);
}
function hideFallback(model) {
  const id = model.get("fallback_id");
  if (!id || typeof document === "undefined") return;
  for (const node of document.getElementsByClassName(id)) node.style.display = "none";
}
function render({ model, el: host }) {
  hideFallback(model);
  const root = el("div", { className: "fm-attn fm-ui" }, host);
  el("style", { text: CSS }, root);
  const bar = el("div", { className: "fm-attn-bar" }, root);
  const viewButtons = {};
  for (const [name, label] of [["heatmap", "Heatmap"], ["head", "Head view"], ["model", "Model view"]]) {
    const b = el("button", { text: label, "data-view": name }, bar);
    b.addEventListener("click", () => {
      model.set("view", name);
      model.save_changes();
    });
    viewButtons[name] = b;
  }
  const layerSel = el("select", { "aria-label": "layer" }, bar);
  const headSel = el("select", { "aria-label": "head" }, bar);
  const toggles = el("span", { className: "fm-attn-toggles" }, bar);
  const status = el("span", { className: "fm-attn-status" }, bar);
  const body = el("div", { className: "fm-attn-body" }, root);
  layerSel.addEventListener("change", () => {
    model.set("layer", Number(layerSel.value));
    model.save_changes();
  });
  headSel.addEventListener("change", () => {
    model.set("head", Number(headSel.value));
    model.save_changes();
  });
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
        const next = Array.from({ length: H }, (_, i) => i === h ? box.checked : on[i] !== false);
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
  let headView = null;
  function buildHeadView(tokens, special) {
    const T = tokens.length;
    const view = { tokens, layer: null, heads: 0, headsOn: [] };
    view.cols = el("div", { className: "fm-attn-cols" });
    const left = tokenColumn(view.cols, "left", tokens, special);
    const canvas = el("canvas", { className: "fm-attn-lines" }, view.cols);
    const right = tokenColumn(view.cols, "right", tokens, special);
    canvas.width = 180;
    canvas.height = T * ROW;
    canvas.style.width = "180px";
    canvas.style.height = `${T * ROW}px`;
    view.drawLines = (focus) => {
      const H = view.heads;
      const found = links(view.layer, H, T, view.headsOn, focus, focus ? 5e-3 : 0.02, MAX_LINES);
      canvas.dataset.lines = String(found.length);
      const ctx = ctx2d(canvas);
      if (!ctx) return;
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.lineWidth = found.length > 500 ? 1 : 2;
      const paths = /* @__PURE__ */ new Map();
      for (const { head, from, to, weight } of found) {
        const key = head * ALPHA_STEPS + Math.min(ALPHA_STEPS - 1, Math.floor(weight * ALPHA_STEPS));
        if (!paths.has(key)) paths.set(key, []);
        paths.get(key).push(from, to);
      }
      for (const [key, ends] of paths) {
        ctx.strokeStyle = headColor(Math.floor(key / ALPHA_STEPS), H);
        ctx.globalAlpha = (key % ALPHA_STEPS + 1) / ALPHA_STEPS;
        ctx.beginPath();
        for (let k = 0; k < ends.length; k += 2) {
          ctx.moveTo(0, ends[k] * ROW + ROW / 2);
          ctx.lineTo(canvas.width, ends[k + 1] * ROW + ROW / 2);
        }
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
    };
    view.unfocus = () => {
      for (const d of view.cols.querySelectorAll(".fm-focus")) d.classList.remove("fm-focus");
    };
    const hover = (col, side) => {
      col.addEventListener("mouseover", (ev) => {
        const idx = ev.target && ev.target.dataset ? ev.target.dataset.index : void 0;
        if (idx === void 0) return;
        view.unfocus();
        ev.target.classList.add("fm-focus");
        view.drawLines({ side, index: Number(idx) });
      });
      col.addEventListener("mouseleave", () => {
        view.unfocus();
        view.drawLines(null);
      });
    };
    hover(left, "left");
    hover(right, "right");
    return view;
  }
  function drawHead(layer) {
    const tokens = model.get("tokens");
    if (!headView || headView.tokens !== tokens) headView = buildHeadView(tokens, model.get("special"));
    headView.layer = layer;
    headView.heads = model.get("n_heads");
    headView.headsOn = model.get("heads_on");
    body.appendChild(headView.cols);
    headView.unfocus();
    headView.drawLines(null);
  }
  function drawHeatmap(layer) {
    const tokens = model.get("tokens");
    const T = tokens.length;
    const head = model.get("head");
    const matrix = headMatrix(layer, model.get("n_heads"), T, head);
    const side = Math.max(240, Math.min(600, T * 14));
    const frame = el("div", { className: "fm-attn-hm" }, body);
    let canvasParent = frame;
    if (T <= LABELLED) {
      frame.style.display = "grid";
      frame.style.gridTemplateColumns = `auto ${side}px`;
      frame.style.justifyContent = "start";
      el("span", {}, frame);
      const top = el("div", { className: "fm-attn-keys" }, frame);
      const left = el("div", { className: "fm-attn-queries" }, frame);
      tokens.forEach((tok, i) => {
        el("div", { text: tok, title: `${i}: ${tok}` }, top);
        el("div", { text: tok, title: `${i}: ${tok}` }, left);
      });
      for (const node of [...top.children, ...left.children]) node.style.setProperty("--cell", `${side / T}px`);
      canvasParent = el("div", {}, frame);
    }
    const canvas = el("canvas", { className: "fm-attn-heatmap" }, canvasParent);
    paint(canvas, matrixPixels(matrix, T, T), T, T);
    canvas.style.width = `${side}px`;
    canvas.style.height = `${side}px`;
    canvas.style.imageRendering = "pixelated";
    const tip = el("div", { className: "fm-attn-tip" }, frame);
    tip.style.display = "none";
    canvas.addEventListener("mousemove", (ev) => {
      const i = Math.min(T - 1, Math.floor(ev.offsetY / side * T));
      const j = Math.min(T - 1, Math.floor(ev.offsetX / side * T));
      tip.textContent = `${tokens[i]} \u2192 ${tokens[j]}: ${matrix[i * T + j].toFixed(3)}`;
      tip.style.left = `${canvas.offsetLeft + ev.offsetX + 12}px`;
      tip.style.top = `${canvas.offsetTop + ev.offsetY + 12}px`;
      tip.style.display = "";
    });
    canvas.addEventListener("mouseleave", () => {
      tip.style.display = "none";
    });
    el("div", { className: "fm-attn-status", text: `rows: query token, columns: key token (${head < 0 ? "mean of heads" : `head ${head}`})` }, body);
  }
  function drawModel() {
    const L = model.get("n_layers");
    const H = model.get("n_heads");
    const s = model.get("grid_size");
    const grid = toBytes(model.get("grid"));
    if (grid.byteLength !== L * H * s * s || s === 0) {
      status.textContent = "loading the model view\u2026";
      return;
    }
    const box = el("div", { className: "fm-attn-grid" }, body);
    box.style.gridTemplateColumns = `auto repeat(${H}, 56px)`;
    el("span", { text: "" }, box);
    for (let h = 0; h < H; h++) el("span", { text: `head ${h}` }, box).style.fontSize = "11px";
    for (let l = 0; l < L; l++) {
      el("span", { text: `layer ${l}` }, box).style.fontSize = "11px";
      for (let h = 0; h < H; h++) {
        const c = el("canvas", {
          "data-layer": String(l),
          "data-head": String(h),
          title: `layer ${l}, head ${h}: click for the heatmap, shift-click for the head view`
        }, box);
        const off = (l * H + h) * s * s;
        paint(c, matrixPixels(grid.subarray(off, off + s * s), s, s, 255), s, s);
        c.addEventListener("click", (ev) => {
          model.set("layer", l);
          model.set("head", h);
          model.set("heads_on", Array.from({ length: H }, (_, i) => !ev.shiftKey || i === h));
          model.set("view", ev.shiftKey ? "head" : "heatmap");
          model.save_changes();
        });
      }
    }
  }
  let drawn = null;
  function draw() {
    const names = ["view", "layer", "head", "data_layer", "layer_data", "grid", "heads_on", "tokens"];
    const state = names.map((name) => model.get(name));
    if (drawn && state.every((v, i) => v === drawn[i])) return;
    drawn = state;
    const start = performance.now();
    fillControls();
    body.replaceChildren();
    status.textContent = "";
    const view = model.get("view");
    if (view === "model") drawModel();
    else {
      const layer = currentLayer();
      if (!layer || model.get("data_layer") !== model.get("layer")) {
        status.textContent = `loading layer ${model.get("layer")}\u2026`;
      } else if (view === "head") drawHead(layer);
      else drawHeatmap(layer);
    }
    root.dataset.drawMs = String(Math.round(performance.now() - start));
  }
  const events = ["layer_data", "data_layer", "grid", "view", "head", "heads_on", "tokens"];
  for (const name of events) model.on(`change:${name}`, draw);
  model.on("change:layer", draw);
  draw();
  return () => {
    for (const name of [...events, "layer"]) model.off(`change:${name}`);
    root.remove();
  };
}
var attention_default = { render };
export {
  attention_default as default
};
