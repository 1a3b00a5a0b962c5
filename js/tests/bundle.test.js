// @vitest-environment node
import { readFileSync } from "node:fs";
import { buildSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { OPTIONS } from "../build.mjs";

const BUILT = buildSync({ ...OPTIONS, write: false }).outputFiles;

describe("the bundles shipped in the Python package", () => {
  it("are what the sources build to (run `npm run build` after editing js/src)", () => {
    expect(BUILT.map((f) => f.path.split("/").pop()).sort()).toEqual(["attention.js", "figure_view.js"]);
    for (const file of BUILT) expect(readFileSync(file.path, "utf8")).toBe(file.text);
  });

  it("load nothing from the network and never parse HTML", () => {
    for (const file of BUILT) {
      const text = readFileSync(file.path, "utf8");
      expect(text).not.toMatch(/https?:\/\//);
      expect(text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
      expect(text).toMatch(/export\s*\{[^}]*default/);
    }
  });

  it("bundle no plotly.js (the page's is used: one copy per notebook, not one per view)", () => {
    const view = BUILT.find((f) => f.path.endsWith("figure_view.js")).text;
    expect(view.length).toBeLessThan(10_000);
    expect(view).not.toMatch(/Plotly\.register|scattergl/);
  });
});
