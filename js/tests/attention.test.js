import { describe, expect, it } from "vitest";
import widget from "../src/attention.js";
import {
  decodeLayer, halfToFloat, headMatrix, links, matrixPixels, toBytes,
} from "../src/attention_core.js";

// float16 bit patterns of values that are exact in half precision
const HALF = new Map([[0, 0x0000], [0.125, 0x3000], [0.25, 0x3400], [0.5, 0x3800], [0.75, 0x3a00], [1, 0x3c00]]);

function f16(values) {
  const buf = new ArrayBuffer(values.length * 2);
  const view = new DataView(buf);
  values.forEach((v, i) => view.setUint16(i * 2, HALF.get(v), true));
  return new DataView(buf); // what ipywidgets hands to a view
}

// two heads over three tokens; rows sum to one
const LAYER0 = [1, 0, 0, 0.5, 0.5, 0, 0.25, 0.25, 0.5, /* head 1 */ 1, 0, 0, 0, 1, 0, 0, 0.25, 0.75];
const LAYER1 = [0.5, 0.5, 0, 0.5, 0.5, 0, 0.25, 0.75, 0, /* head 1 */ 1, 0, 0, 1, 0, 0, 1, 0, 0];
const HOSTILE = "<img src=x onerror=alert(1)>";

// A model object like anywidget's, with a "kernel" that answers a layer request with its bytes.
function fakeModel(overrides = {}) {
  const state = {
    tokens: ["[CLS]", HOSTILE, "[SEP]"], special: [true, false, true], n_layers: 2, n_heads: 2,
    view: "head", layer: 0, head: -1, heads_on: [true, true], layer_data: f16(LAYER0), data_layer: 0,
    grid: new DataView(new ArrayBuffer(0)), grid_size: 0, ...overrides,
  };
  const handlers = {};
  const pending = new Set();
  const requests = [];
  const fire = (k) => (handlers[`change:${k}`] || []).forEach((fn) => fn());
  const model = {
    state, requests,
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; pending.add(k); },
    save_changes() {
      const keys = [...pending];
      pending.clear();
      keys.forEach(fire);
      requests.push(keys);
    },
    on: (ev, fn) => { (handlers[ev] ||= []).push(fn); },
    off: (ev) => { delete handlers[ev]; },
    kernelSends(changes) { Object.assign(state, changes); Object.keys(changes).forEach(fire); },
  };
  return model;
}

function mount(model) {
  const host = document.createElement("div");
  document.body.appendChild(host);
  const cleanup = widget.render({ model, el: host });
  return { host, cleanup };
}

describe("float16 and matrices", () => {
  it("decodes float16 exactly", () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0x3800)).toBe(0.5);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(Array.from(decodeLayer(f16(LAYER0), 2, 3))).toEqual(LAYER0);
  });

  it("decodes an unaligned view and paints weights blue", () => {
    const bytes = new Uint8Array(1 + LAYER0.length * 2);
    bytes.set(new Uint8Array(f16(LAYER0).buffer), 1);
    expect(Array.from(decodeLayer(new DataView(bytes.buffer, 1), 2, 3))).toEqual(LAYER0);
    const px = matrixPixels(new Float32Array([0, 1]), 1, 2);
    expect(Array.from(px)).toEqual([247, 251, 255, 255, 8, 48, 107, 255]);
  });

  it("rejects bytes of the wrong size", () => {
    expect(decodeLayer(f16(LAYER0), 2, 4)).toBeNull();
    expect(decodeLayer(null, 2, 3)).toBeNull();
    expect(toBytes(new ArrayBuffer(4)).byteLength).toBe(4);
  });

  it("averages heads and picks one head", () => {
    const layer = decodeLayer(f16(LAYER0), 2, 3);
    expect(Array.from(headMatrix(layer, 2, 3, 1))).toEqual(LAYER0.slice(9));
    expect(Array.from(headMatrix(layer, 2, 3, -1))).toEqual([1, 0, 0, 0.25, 0.75, 0, 0.125, 0.25, 0.625]);
  });

  it("lists head-view lines by threshold, focus and head toggles", () => {
    const layer = decodeLayer(f16(LAYER0), 2, 3);
    expect(links(layer, 2, 3, [true, true]).length).toBe(10);
    expect(links(layer, 2, 3, [false, true]).every((l) => l.head === 1)).toBe(true);
    const focused = links(layer, 2, 3, [true, true], { side: "left", index: 2 });
    expect(focused.map((l) => [l.head, l.to, l.weight])).toEqual([[0, 0, 0.25], [0, 1, 0.25], [0, 2, 0.5], [1, 1, 0.25], [1, 2, 0.75]]);
    const strongest = links(layer, 2, 3, [true, true], null, 0.02, 3);
    expect(strongest.map((l) => l.weight)).toEqual([1, 1, 1]);
    const into = links(layer, 2, 3, [true, true], { side: "right", index: 0 });
    expect(into.every((l) => l.to === 0)).toBe(true);
  });
});

describe("the widget", () => {
  it("renders hostile tokens as text and runs nothing", () => {
    const { host } = mount(fakeModel());
    expect(host.querySelectorAll("img").length).toBe(0);
    const cells = [...host.querySelectorAll(".fm-attn-col div")].map((d) => d.textContent);
    expect(cells).toContain(HOSTILE);
    expect(host.querySelectorAll(".fm-special").length).toBe(4); // [CLS] and [SEP] in both columns
  });

  it("asks the kernel for a layer and draws it when it arrives", () => {
    const model = fakeModel();
    const { host } = mount(model);
    const select = host.querySelector("select[aria-label=layer]");
    expect(select.options.length).toBe(2);
    select.value = "1";
    select.dispatchEvent(new Event("change"));
    expect(model.requests.at(-1)).toEqual(["layer"]);
    expect(host.querySelector(".fm-attn-status").textContent).toBe("loading layer 1…");
    expect(host.querySelector(".fm-attn-col")).toBeNull();
    model.kernelSends({ layer_data: f16(LAYER1), data_layer: 1 });
    expect(host.querySelector(".fm-attn-status").textContent).toBe("");
    expect(host.querySelectorAll(".fm-attn-col").length).toBe(2);
  });

  it("focuses a hovered token and toggles heads", () => {
    const model = fakeModel();
    const { host } = mount(model);
    const canvas = host.querySelector("canvas.fm-attn-lines");
    expect(canvas.dataset.lines).toBe("10");
    const third = host.querySelector(".fm-left div[data-index='2']");
    third.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(third.classList.contains("fm-focus")).toBe(true);
    expect(host.querySelector("canvas.fm-attn-lines").dataset.lines).toBe("5");
    const box = host.querySelector("input[data-head='0']");
    box.checked = false;
    box.dispatchEvent(new Event("change"));
    expect(model.state.heads_on).toEqual([false, true]);
    expect(host.querySelector("canvas.fm-attn-lines").dataset.lines).toBe("4");
  });

  it("shows the heatmap of the chosen head with a text tooltip", () => {
    const model = fakeModel({ view: "heatmap" });
    const { host } = mount(model);
    const canvas = host.querySelector("canvas.fm-attn-heatmap");
    expect(canvas.width).toBe(3);
    const head = host.querySelector("select[aria-label=head]");
    expect(head.options.length).toBe(3);
    head.value = "1";
    head.dispatchEvent(new Event("change"));
    expect(model.state.head).toBe(1);
    expect(host.textContent).toContain("head 1");
    // few tokens: labelled rows and columns, as text
    expect([...host.querySelectorAll(".fm-attn-keys div")].map((d) => d.textContent)).toEqual(["[CLS]", HOSTILE, "[SEP]"]);
    expect(host.querySelectorAll(".fm-attn-queries div").length).toBe(3);
    expect(host.querySelectorAll("img").length).toBe(0);
    const fresh = host.querySelector("canvas.fm-attn-heatmap");
    fresh.dispatchEvent(new MouseEvent("mousemove", { bubbles: true }));
    const tip = host.querySelector(".fm-attn-tip");
    expect(tip.textContent).toBe("[CLS] → [CLS]: 1.000");
  });

  it("opens a head of the model view in the heatmap", () => {
    const s = 2;
    const grid = new Uint8Array(2 * 2 * s * s).fill(128);
    const model = fakeModel({ view: "model", grid: new DataView(grid.buffer), grid_size: s, layer_data: new DataView(new ArrayBuffer(0)) });
    const { host } = mount(model);
    const cells = host.querySelectorAll(".fm-attn-grid canvas");
    expect(cells.length).toBe(4);
    cells[3].dispatchEvent(new MouseEvent("click"));
    expect([model.state.layer, model.state.head, model.state.view]).toEqual([1, 1, "heatmap"]);
    expect(host.querySelector(".fm-attn-status").textContent).toBe("loading layer 1…");
    expect(model.state.heads_on).toEqual([true, true]);
  });

  it("opens a head of the model view alone in the head view on shift-click", () => {
    const grid = new Uint8Array(2 * 2 * 4).fill(7);
    const model = fakeModel({ view: "model", grid: new DataView(grid.buffer), grid_size: 2 });
    const { host } = mount(model);
    host.querySelector(".fm-attn-grid canvas[data-layer='0'][data-head='1']")
      .dispatchEvent(new MouseEvent("click", { shiftKey: true }));
    expect([model.state.layer, model.state.head, model.state.view]).toEqual([0, 1, "head"]);
    expect(model.state.heads_on).toEqual([false, true]);
    expect(host.querySelectorAll(".fm-attn-col").length).toBe(2); // layer 0 is already here
  });

  it("hides the static picture shown for notebooks without a kernel", () => {
    const picture = document.createElement("div");
    picture.className = "fm-attention-static fm-fallback-abc";
    const other = document.createElement("div");
    other.className = "fm-attention-static fm-fallback-other";
    document.body.append(picture, other);
    mount(fakeModel({ fallback_id: "fm-fallback-abc" }));
    expect(picture.style.display).toBe("none");
    expect(other.style.display).toBe("");
  });

  it("says when the model view is still loading and cleans up", () => {
    const model = fakeModel({ view: "model", grid_size: 0 });
    const { host, cleanup } = mount(model);
    expect(host.textContent).toContain("loading the model view");
    cleanup();
    expect(host.children.length).toBe(0);
  });
});
