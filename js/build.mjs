// Build the anywidget ES modules into the Python package (fmwidgets/widgets/static/), so that
// `pip install` needs no Node.  `node build.mjs` writes them; tests/bundle.test.js checks that
// the committed bundle is what these sources build to.
import { buildSync } from "esbuild";
import { fileURLToPath } from "node:url";

export const OPTIONS = {
  entryPoints: [fileURLToPath(new URL("./src/attention.js", import.meta.url))],
  bundle: true,
  format: "esm",
  target: "es2020",
  outfile: fileURLToPath(new URL("../fmwidgets/widgets/static/attention.js", import.meta.url)),
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildSync(OPTIONS);
  console.log(`built ${OPTIONS.outfile}`);
}
