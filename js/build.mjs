// Build the anywidget ES modules into the Python package (fmwidgets/widgets/static/), so that
// `pip install` needs no Node.  `node build.mjs` writes them; tests/bundle.test.js checks that
// the committed bundles are what these sources build to.
import { buildSync } from "esbuild";
import { fileURLToPath } from "node:url";

const source = (name) => fileURLToPath(new URL(`./src/${name}`, import.meta.url));

export const OPTIONS = {
  entryPoints: [source("attention.js"), source("figure_view.js")],
  bundle: true,
  format: "esm",
  target: "es2020",
  outdir: fileURLToPath(new URL("../fmwidgets/widgets/static/", import.meta.url)),
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { metafile } = buildSync({ ...OPTIONS, metafile: true });
  for (const file of Object.keys(metafile.outputs)) console.log(`built ${file}`);
}
