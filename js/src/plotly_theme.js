// How every fmwidgets Plotly figure follows JupyterLab's theme: the one place these rules live.
//
// Lab's dark theme sets <body data-jp-theme-light="false">; plotly.js knows nothing of it, nor of
// CSS variables.  So in the dark theme a figure's template gets transparent backgrounds (the
// notebook's own background shows through) and the theme's --jp-* text and border colours, read
// here; back in a light theme it gets its own template again.  Outside Lab (nbconvert HTML,
// GitHub) the attribute is absent and nothing changes.
//
// Two users, one source (npm run build):
// - the FigureView anywidget (the explorer's live map) imports it into its bundle;
// - the static figures run it from their own output: build.mjs also writes it as a plain script
//   (static/plotly_theme.js, global `fmPlotlyTheme`) that fmwidgets/display.py pastes after each
//   figure's drawing script (display.THEME_SCRIPT).

// Lab's dark theme is on in this page.
export function isDark(doc) {
  return doc.body.dataset.jpThemeLight === "false";
}

// The template to draw with: `own` (the figure's template) in a light theme; in the dark theme a
// copy with transparent backgrounds and the colours of the theme, as CSS variables seen from `el`.
export function themeTemplate(own, el) {
  own = own || {};
  if (!isDark(el.ownerDocument)) return own;
  const css = getComputedStyle(el);
  const v = (name, dflt) => css.getPropertyValue(name).trim() || dflt;
  const text = v("--jp-ui-font-color1", "#e0e0e0");
  const line = v("--jp-border-color2", "#555");
  const none = "rgba(0,0,0,0)";
  const axis = { gridcolor: line, linecolor: line, zerolinecolor: line, tickcolor: line };
  const template = JSON.parse(JSON.stringify(own));
  const l = (template.layout = template.layout || {});
  l.paper_bgcolor = l.plot_bgcolor = none;
  l.font = { ...l.font, color: text };
  l.xaxis = { ...l.xaxis, ...axis };
  l.yaxis = { ...l.yaxis, ...axis };
  l.scene = l.scene || {};
  for (const k of ["xaxis", "yaxis", "zaxis"]) l.scene[k] = { ...l.scene[k], ...axis, backgroundcolor: none };
  return template;
}

// Call `redraw` each time Lab switches between a light and a dark theme; returns what stops it.
export function onThemeChange(doc, redraw) {
  let dark = isDark(doc);
  const observer = new MutationObserver(() => {
    if (isDark(doc) === dark) return;
    dark = !dark;
    redraw();
  });
  observer.observe(doc.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
  return () => observer.disconnect();
}

// Draw the figure in `gd` again as it is now (zoom and selection kept), in its template `own`
// made to fit the theme.
export function retheme(Plotly, gd, own) {
  return Plotly.react(gd, gd.data, { ...gd.layout, template: themeTemplate(own, gd) });
}

// A figure plotly.js has drawn (its div `gd`, in its own template) follows the theme from now on.
export function followTheme(Plotly, gd) {
  const own = gd.layout.template;
  const redraw = () => retheme(Plotly, gd, own);
  if (isDark(gd.ownerDocument)) redraw();
  return onThemeChange(gd.ownerDocument, redraw);
}
