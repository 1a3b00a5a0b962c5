import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../src/figure_view.js";
import { followTheme, onThemeChange, themeTemplate } from "../src/plotly_theme.js";

const OWN = { layout: { paper_bgcolor: "white", font: { family: "Arial", color: "#2a3f5f" }, xaxis: { gridcolor: "white" } } };
const NONE = "rgba(0,0,0,0)";

// JupyterLab's theme switch: the attribute on <body>.
function setTheme(theme) {
  document.body.dataset.jpThemeLight = theme === "dark" ? "false" : "true";
}

// A stand-in for the page's plotly.js: react records what it drew and keeps it on the div, as plotly does.
function fakePlotly() {
  return {
    drawn: [],
    react(gd, data, layout) {
      Object.assign(gd, { data, layout, on() {} });
      this.drawn.push(layout);
      return Promise.resolve(gd);
    },
    purge() {},
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0)); // MutationObserver callbacks

afterEach(() => {
  delete window.Plotly;
  delete document.body.dataset.jpThemeLight;
  document.body.textContent = "";
});

describe("the theme rules", () => {
  it("keep a figure's own template in a light theme and outside JupyterLab", () => {
    const el = document.body.appendChild(document.createElement("div"));
    expect(themeTemplate(OWN, el)).toBe(OWN);
    setTheme("light");
    expect(themeTemplate(OWN, el)).toBe(OWN);
  });

  it("give it transparent backgrounds and the theme's colours in the dark theme, on a copy", () => {
    setTheme("dark");
    const el = document.body.appendChild(document.createElement("div"));
    el.style.setProperty("--jp-ui-font-color1", "rgb(255, 255, 255)"); // what the theme sets (jsdom cascades no variables)
    const { layout } = themeTemplate(OWN, el);
    expect([layout.paper_bgcolor, layout.plot_bgcolor, layout.scene.zaxis.backgroundcolor]).toEqual([NONE, NONE, NONE]);
    expect(layout.font).toEqual({ family: "Arial", color: "rgb(255, 255, 255)" });
    expect(layout.xaxis.gridcolor).toBe("#555"); // the theme's variable where set, else a default
    expect(OWN.layout.paper_bgcolor).toBe("white");
    expect(themeTemplate(undefined, el).layout.paper_bgcolor).toBe(NONE);
  });

  it("call back only when the theme flips between light and dark, until stopped", async () => {
    setTheme("light");
    const redraw = vi.fn();
    const stop = onThemeChange(document, redraw);
    document.body.dataset.jpThemeLight = "true"; // another light theme
    await settle();
    expect(redraw).not.toHaveBeenCalled();
    setTheme("dark");
    await settle();
    setTheme("light");
    await settle();
    expect(redraw).toHaveBeenCalledTimes(2);
    stop();
    setTheme("dark");
    await settle();
    expect(redraw).toHaveBeenCalledTimes(2);
  });
});

describe("figures following the theme", () => {
  it("a static figure: redrawn dark now and in its own template again back in the light theme", async () => {
    setTheme("dark");
    const Plotly = fakePlotly();
    const gd = document.body.appendChild(document.createElement("div"));
    Object.assign(gd, { data: [{ y: [1] }], layout: { title: { text: "t" }, template: OWN } });
    followTheme(Plotly, gd);
    expect(Plotly.drawn.at(-1).template.layout.paper_bgcolor).toBe(NONE);
    expect(Plotly.drawn.at(-1).title.text).toBe("t");
    setTheme("light");
    await settle();
    expect(Plotly.drawn.at(-1).template).toBe(OWN);
  });

  it("the live map (FigureView): drawn dark, each new figure too, and light again", async () => {
    setTheme("dark");
    const Plotly = (window.Plotly = fakePlotly());
    const state = { figure: JSON.stringify({ data: [], layout: { template: OWN } }), selection: [], fallback_id: "" };
    const handlers = {};
    const model = {
      get: (k) => state[k], set() {}, save_changes() {},
      on: (ev, fn) => { handlers[ev] = fn; }, off() {},
    };
    const host = document.body.appendChild(document.createElement("div"));
    const cleanup = widget.render({ model, el: host });
    await vi.waitFor(() => expect(Plotly.drawn.length).toBe(1));
    expect(Plotly.drawn[0].template.layout.paper_bgcolor).toBe(NONE);
    state.figure = JSON.stringify({ data: [], layout: { template: OWN, title: { text: "new" } } });
    handlers["change:figure"]();
    expect(Plotly.drawn.at(-1).template.layout.paper_bgcolor).toBe(NONE);
    setTheme("light");
    await settle();
    expect(Plotly.drawn.at(-1).template).toEqual(OWN);
    expect(Plotly.drawn.at(-1).title.text).toBe("new");
    cleanup();
    setTheme("dark");
    await settle();
    expect(Plotly.drawn.at(-1).template).toEqual(OWN); // a view that is gone follows nothing
  });
});
