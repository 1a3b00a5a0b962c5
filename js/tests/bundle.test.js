// @vitest-environment node
import { readFileSync } from "node:fs";
import { buildSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { OPTIONS } from "../build.mjs";

describe("the bundle shipped in the Python package", () => {
  it("is what the sources build to (run `npm run build` after editing js/src)", () => {
    const built = buildSync({ ...OPTIONS, write: false }).outputFiles[0].text;
    expect(readFileSync(OPTIONS.outfile, "utf8")).toBe(built);
  });

  it("loads nothing from the network and never parses HTML", () => {
    const text = readFileSync(OPTIONS.outfile, "utf8");
    expect(text).not.toMatch(/https?:\/\//);
    expect(text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(text).toMatch(/export\s*\{[^}]*default/);
  });
});
