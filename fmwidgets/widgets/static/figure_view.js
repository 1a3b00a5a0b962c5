// src/figure_view_core.js
function selectionPairs(event) {
  if (!event || !Array.isArray(event.points)) return [];
  return event.points.map((p) => [p.curveNumber, p.pointNumber ?? p.pointIndex]).filter(([trace, point]) => Number.isInteger(trace) && Number.isInteger(point));
}
function pagePlotly(win) {
  const found = win && (win.Plotly || win._Plotly);
  return found && typeof found.react === "function" ? found : null;
}
function waitForPlotly(win, timeoutMs = 1e4, intervalMs = 100) {
  return new Promise((resolve) => {
    const started = Date.now();
    const look = () => {
      const plotly = pagePlotly(win);
      if (plotly || Date.now() - started >= timeoutMs) resolve(plotly);
      else setTimeout(look, intervalMs);
    };
    look();
  });
}
function parseFigure(text) {
  try {
    const fig = JSON.parse(text || "{}");
    return { data: Array.isArray(fig.data) ? fig.data : [], layout: fig.layout || {} };
  } catch {
    return { data: [], layout: {} };
  }
}
function className(id) {
  return /^[A-Za-z_][\w-]*$/.test(id || "") ? id : "";
}

// src/plotly_theme.js
function isDark(doc) {
  return doc.body.dataset.jpThemeLight === "false";
}
function themeTemplate(own, el) {
  own = own || {};
  if (!isDark(el.ownerDocument)) return own;
  const css = getComputedStyle(el);
  const v = (name, dflt) => css.getPropertyValue(name).trim() || dflt;
  const text = v("--jp-ui-font-color1", "#e0e0e0");
  const line = v("--jp-border-color2", "#555");
  const none = "rgba(0,0,0,0)";
  const axis = { gridcolor: line, linecolor: line, zerolinecolor: line, tickcolor: line };
  const template = JSON.parse(JSON.stringify(own));
  const l = template.layout = template.layout || {};
  l.paper_bgcolor = l.plot_bgcolor = none;
  l.font = { ...l.font, color: text };
  l.xaxis = { ...l.xaxis, ...axis };
  l.yaxis = { ...l.yaxis, ...axis };
  l.scene = l.scene || {};
  for (const k of ["xaxis", "yaxis", "zaxis"]) l.scene[k] = { ...l.scene[k], ...axis, backgroundcolor: none };
  return template;
}
function onThemeChange(doc, redraw) {
  let dark = isDark(doc);
  const observer = new MutationObserver(() => {
    if (isDark(doc) === dark) return;
    dark = !dark;
    redraw();
  });
  observer.observe(doc.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
  return () => observer.disconnect();
}
function retheme(Plotly, gd, own) {
  return Plotly.react(gd, gd.data, { ...gd.layout, template: themeTemplate(own, gd) });
}

// src/figure_view.js
var NO_PLOTLY = "The map needs plotly.js, which this page has not loaded: run the cell again.";
function render({ model, el: host }) {
  const root = document.createElement("div");
  root.className = "fm-figure-view fm-ui";
  host.appendChild(root);
  const plot = document.createElement("div");
  root.appendChild(plot);
  let Plotly = null;
  let gone = false;
  let own = null;
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
  const redraw = () => {
    if (Plotly) draw();
  };
  const stopTheme = onThemeChange(document, () => {
    if (Plotly) retheme(Plotly, plot, own);
  });
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
var figure_view_default = { render };
export {
  NO_PLOTLY,
  figure_view_default as default
};
