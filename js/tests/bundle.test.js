// @vitest-environment node
import { readFileSync } from "node:fs";
import { buildSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { BUILDS } from "../build.mjs";

const BUILT = BUILDS.flatMap((options) => buildSync({ ...options, write: false }).outputFiles);
const name = (file) => file.path.split("/").pop();

describe("the bundles shipped in the Python package", () => {
  it("are what the sources build to (run `npm run build` after editing js/src)", () => {
    expect(BUILT.map(name).sort()).toEqual(["attention.js", "figure_view.js", "pair_review.js", "plotly_theme.js"]);
    for (const file of BUILT) expect(readFileSync(file.path, "utf8")).toBe(file.text);
  });

  it("load nothing from the network and never parse HTML", () => {
    for (const file of BUILT) {
      const text = readFileSync(file.path, "utf8");
      expect(text).not.toMatch(/https?:\/\//);
      expect(text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });

  it("are anywidget ES modules, and the theme script one plain script (pasted after each static figure)", () => {
    for (const file of BUILT.filter((f) => name(f) !== "plotly_theme.js")) {
      expect(file.text).toMatch(/export\s*\{[^}]*default/);
    }
    const script = BUILT.find((f) => name(f) === "plotly_theme.js").text;
    expect(script).toMatch(/^var fmPlotlyTheme=/);
    expect(script).not.toMatch(/\bexport\b|\bimport\b|<\/script/i);
  });

  it("bundle no plotly.js (the page's is used: one copy per notebook, not one per view)", () => {
    const view = BUILT.find((f) => f.path.endsWith("figure_view.js")).text;
    expect(view.length).toBeLessThan(10_000);
    expect(view).not.toMatch(/Plotly\.register|scattergl/);
  });
});
