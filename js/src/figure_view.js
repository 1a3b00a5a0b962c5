// fmwidgets figure view (anywidget ES module): a plotly figure drawn with the page's plotly.js,
// whose lasso and box selections go back to the kernel.
//
// plotly.js is not bundled here (5 MB saved per widget in the notebook's widget state): the plain
// output displayed just before the view publishes it once per kernel and sets window.Plotly.
// The figure's text was escaped by the kernel (plots/text.py); this module writes no HTML.
// It follows JupyterLab's theme as the static figures do (plotly_theme.js).

import { className, parseFigure, selectionPairs, waitForPlotly } from "./figure_view_core.js";
import { onThemeChange, retheme, themeTemplate } from "./plotly_theme.js";

export const NO_PLOTLY = "The map needs plotly.js, which this page has not loaded: run the cell again.";

function render({ model, el: host }) {
  const root = document.createElement("div");
  root.className = "fm-figure-view fm-ui";
  host.appendChild(root);
  const plot = document.createElement("div");
  root.appendChild(plot);
  let Plotly = null;
  let gone = false;
  let own = null; // the template of the figure drawn, before the theme changed it

  const send = (pairs) => {
    model.set("selection", pairs);
    model.save_changes();
  };
  const draw = () => {
    const { data, layout } = parseFigure(model.get("figure"));
    own = layout.template;
    const template = themeTemplate(own, plot);
    return Plotly.react(plot, data, { ...layout, template }, { responsive: true, displaylogo: false });
  };
  const redraw = () => { if (Plotly) draw(); };
  const stopTheme = onThemeChange(document, () => { if (Plotly) retheme(Plotly, plot, own); });

  waitForPlotly(window).then((found) => {
    if (gone) return;
    if (!found) {
      const line = document.createElement("div");
      line.className = "fm-figure-view-missing";
      line.textContent = NO_PLOTLY;
      root.appendChild(line);
      return;
    }
    Plotly = found;
    Promise.resolve(draw()).then(() => {
      plot.on("plotly_selected", (event) => send(selectionPairs(event)));
      plot.on("plotly_deselect", () => send([]));
      // the static copy beside the view repeats the figure: hide it now that the view has drawn
      const id = className(model.get("fallback_id"));
      if (id) {
        const style = document.createElement("style");
        style.textContent = `.${id} { display: none; }`;
        root.appendChild(style);
      }
    });
  });
  model.on("change:figure", redraw);
  return () => {
    gone = true;
    stopTheme();
    model.off("change:figure", redraw);
    if (Plotly) Plotly.purge(plot);
  };
}

export default { render };
