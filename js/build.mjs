// Build the front-end code into the Python package (fmwidgets/widgets/static/), so that
// `pip install` needs no Node.  `node build.mjs` writes them; tests/bundle.test.js checks that
// the committed files are what these sources build to.
import { buildSync } from "esbuild";
import { fileURLToPath } from "node:url";

const source = (name) => fileURLToPath(new URL(`./src/${name}`, import.meta.url));
const STATIC = fileURLToPath(new URL("../fmwidgets/widgets/static/", import.meta.url));

export const BUILDS = [
  // the anywidget views: ES modules that anywidget imports
  { entryPoints: [source("attention.js"), source("figure_view.js"), source("pair_review.js")], format: "esm" },
  // the theme rules as a plain script with one global, `fmPlotlyTheme`, that fmwidgets/display.py
  // pastes after each static figure (its THEME_SCRIPT): minified, as every figure's output holds it
  { entryPoints: [source("plotly_theme.js")], format: "iife", globalName: "fmPlotlyTheme", minify: true },
].map((options) => ({ ...options, bundle: true, target: "es2020", outdir: STATIC }));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const options of BUILDS) {
    const { metafile } = buildSync({ ...options, metafile: true });
    for (const file of Object.keys(metafile.outputs)) console.log(`built ${file}`);
  }
}
