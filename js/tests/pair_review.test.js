import { describe, expect, it } from "vitest";
import widget from "../src/pair_review.js";

const HOSTILE = "<img src=x onerror=\"window.__pwned=1\">";

// A model object like anywidget's: traits, change handlers, and the messages the view sends.
function fakeModel(overrides = {}) {
  const state = {
    name: "v1 vs v2", index: 0, total: 3, fields: [["q", "what is 2+2?"]], left: "four",
    right: HOSTILE, choice: null, comment: "", reviewed: 0, ...overrides,
  };
  const handlers = {};
  const sent = [];
  return {
    state, sent,
    get: (k) => state[k],
    on: (ev, fn) => { (handlers[ev] = handlers[ev] || []).push(fn); },
    send: (msg) => sent.push(msg),
    change(k, v) { state[k] = v; (handlers[`change:${k}`] || []).forEach((fn) => fn()); },
  };
}

function mount(overrides) {
  const model = fakeModel(overrides);
  const root = document.createElement("div");
  document.body.append(root);
  widget.render({ model, el: root });
  return { model, root, box: root.querySelector(".fm-pair-review") };
}

const key = (box, k) => box.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));

describe("the pairwise review view", () => {
  it("shows the input and both outputs side by side, as text", () => {
    const { root } = mount();
    expect(root.querySelector(".fm-pair-progress").textContent).toBe("v1 vs v2: pair 1 of 3 · 0 reviewed");
    expect(root.querySelector(".fm-pair-fields").textContent).toContain("what is 2+2?");
    expect(root.querySelector(".fm-pair-left .fm-pair-text").textContent).toBe("four");
    expect(root.querySelector(".fm-pair-right .fm-pair-text").textContent).toBe(HOSTILE);
    expect(root.querySelector("img")).toBeNull();
    expect(window.__pwned).toBeUndefined();
  });

  it("sends 1 / 2 / = from keys and buttons, with the comment; moves with arrows", () => {
    const { model, root, box } = mount();
    root.querySelector(".fm-pair-comment").value = "left is right";
    key(box, "1");
    key(box, "=");
    root.querySelector('.fm-pair-choose[data-value="2"]').click();
    key(box, "ArrowRight");
    key(box, "p");
    key(box, "x"); // not a key of this view: nothing sent
    expect(model.sent).toEqual([
      { action: "choose", value: "1", comment: "left is right" },
      { action: "choose", value: "=", comment: "left is right" },
      { action: "choose", value: "2", comment: "left is right" },
      { action: "go", delta: 1 },
      { action: "go", delta: -1 },
    ]);
  });

  it("typing a comment sends nothing", () => {
    const { model, root } = mount();
    const comment = root.querySelector(".fm-pair-comment");
    comment.dispatchEvent(new KeyboardEvent("keydown", { key: "1", bubbles: true }));
    expect(model.sent).toEqual([]);
  });

  it("marks the choice and follows the kernel to the next pair", () => {
    const { model, root } = mount();
    model.change("choice", "2");
    expect(root.querySelector(".fm-pair-right").classList.contains("fm-on")).toBe(true);
    expect(root.querySelector('.fm-pair-choose[data-value="2"]').classList.contains("fm-on")).toBe(true);
    expect(root.querySelector(".fm-pair-left").classList.contains("fm-on")).toBe(false);
    model.change("reviewed", 1);
    model.change("index", 2);
    model.change("choice", null);
    expect(root.querySelector(".fm-pair-progress").textContent).toBe("v1 vs v2: pair 3 of 3 · 1 reviewed");
    expect(root.querySelector(".fm-pair-next").disabled).toBe(true);
    expect(root.querySelector(".fm-pair-prev").disabled).toBe(false);
    expect(root.querySelectorAll(".fm-on")).toHaveLength(0);
  });
});
