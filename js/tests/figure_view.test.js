import { afterEach, describe, expect, it, vi } from "vitest";
import widget, { NO_PLOTLY } from "../src/figure_view.js";
import {
  className, pagePlotly, parseFigure, selectionPairs, waitForPlotly,
} from "../src/figure_view_core.js";

const FIGURE = JSON.stringify({
  data: [{ type: "scattergl", x: { dtype: "f4", bdata: "AAAAAAAAgD8=" }, y: [0, 1], text: ["&lt;b&gt;"] }],
  layout: { dragmode: "lasso" },
});

// A stand-in for the page's plotly.js: records what it drew and lets a test fire plot events.
function fakePlotly() {
  const handlers = {};
  return {
    drawn: [], purged: 0, handlers,
    react(gd, data, layout) {
      this.drawn.push({ data, layout });
      gd.on = (ev, fn) => { handlers[ev] = fn; };
      return Promise.resolve(gd);
    },
    purge() { this.purged += 1; },
  };
}

function fakeModel(state) {
  const handlers = {};
  const sent = [];
  return {
    state, sent,
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; },
    save_changes() { sent.push(state.selection); },
    on: (ev, fn) => { (handlers[ev] ||= []).push(fn); },
    off: (ev) => { delete handlers[ev]; },
    kernelSends(changes) {
      Object.assign(state, changes);
      Object.keys(changes).forEach((k) => (handlers[`change:${k}`] || []).forEach((fn) => fn()));
    },
  };
}

async function mount(model) {
  const host = document.createElement("div");
  document.body.appendChild(host);
  const cleanup = widget.render({ model, el: host });
  await vi.waitFor(() => expect(host.querySelector(".fm-figure-view")).not.toBeNull());
  return { host, cleanup };
}

afterEach(() => {
  delete window.Plotly;
  delete window._Plotly;
  document.body.textContent = "";
  vi.useRealTimers();
});

describe("reading plotly's events and the kernel's traits", () => {
  it("turns a selection event into [trace, point] pairs", () => {
    const event = { points: [{ curveNumber: 0, pointNumber: 2 }, { curveNumber: 1, pointIndex: 0 }, { curveNumber: 1 }] };
    expect(selectionPairs(event)).toEqual([[0, 2], [1, 0]]);
    expect(selectionPairs(undefined)).toEqual([]);
    expect(selectionPairs({ points: [] })).toEqual([]);
  });

  it("reads the figure JSON and keeps typed arrays as plotly.js reads them", () => {
    const { data, layout } = parseFigure(FIGURE);
    expect(data[0].x).toEqual({ dtype: "f4", bdata: "AAAAAAAAgD8=" });
    expect(layout.dragmode).toBe("lasso");
    expect(parseFigure("not json")).toEqual({ data: [], layout: {} });
  });

  it("takes only a plain class name as the static copy's id", () => {
    expect(className("fm-fallback-0a1b")).toBe("fm-fallback-0a1b");
    expect(className("x} body { display: none")).toBe("");
    expect(className("")).toBe("");
  });

  it("finds the page's plotly.js, also behind requirejs, and waits for it", async () => {
    const plotly = fakePlotly();
    expect(pagePlotly({})).toBeNull();
    expect(pagePlotly({ _Plotly: plotly })).toBe(plotly);
    const page = {};
    const waiting = waitForPlotly(page, 2000, 10);
    setTimeout(() => { page.Plotly = plotly; }, 50);
    expect(await waiting).toBe(plotly);
    expect(await waitForPlotly({}, 30, 10)).toBeNull();
  });
});

describe("the view", () => {
  it("draws with the page's plotly.js, sends selections and follows new figures", async () => {
    const plotly = (window.Plotly = fakePlotly());
    const model = fakeModel({ figure: FIGURE, selection: [], fallback_id: "fm-fallback-abc" });
    const { host, cleanup } = await mount(model);
    await vi.waitFor(() => expect(plotly.drawn.length).toBe(1));
    expect(plotly.drawn[0].data[0].x.bdata).toBe("AAAAAAAAgD8=");
    await vi.waitFor(() => expect(host.querySelector("style")?.textContent).toBe(".fm-fallback-abc { display: none; }"));

    plotly.handlers.plotly_selected({ points: [{ curveNumber: 1, pointNumber: 4 }] });
    expect(model.sent).toEqual([[[1, 4]]]);
    plotly.handlers.plotly_deselect();
    expect(model.sent.at(-1)).toEqual([]);

    model.kernelSends({ figure: JSON.stringify({ data: [], layout: { title: { text: "new" } } }) });
    expect(plotly.drawn.at(-1).layout.title.text).toBe("new");
    cleanup();
    expect(plotly.purged).toBe(1);
  });

  it("says in one line that plotly.js is missing, and leaves the static copy shown", async () => {
    vi.useFakeTimers();
    const model = fakeModel({ figure: FIGURE, selection: [], fallback_id: "fm-fallback-abc" });
    const host = document.createElement("div");
    widget.render({ model, el: host });
    await vi.advanceTimersByTimeAsync(11_000);
    expect(host.querySelector(".fm-figure-view-missing").textContent).toBe(NO_PLOTLY);
    expect(host.querySelector("style")).toBeNull();
  });
});
