// The parts of the figure view that need no plotly.js: reading plotly's selection events and
// finding the page's plotly.js (tested in js/tests/figure_view.test.js).

// plotly_selected's event -> [[trace, point], ...] (no event, or no points: the selection was cleared).
export function selectionPairs(event) {
  if (!event || !Array.isArray(event.points)) return [];
  return event.points.map((p) => [p.curveNumber, p.pointNumber ?? p.pointIndex])
    .filter(([trace, point]) => Number.isInteger(trace) && Number.isInteger(point));
}

// The plotly.js that the page loaded (plotly's notebook renderer sets window.Plotly, or
// window._Plotly where requirejs is on the page), or null.
export function pagePlotly(win) {
  const found = win && (win.Plotly || win._Plotly);
  return found && typeof found.react === "function" ? found : null;
}

// Resolve with the page's plotly.js as soon as it is there, or with null after `timeoutMs`.
// The plain output displayed before the view loads plotly.js; its script may run a moment later.
export function waitForPlotly(win, timeoutMs = 10000, intervalMs = 100) {
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

// The figure trait (plotly's JSON) -> {data, layout}; a figure that cannot be read draws nothing.
export function parseFigure(text) {
  try {
    const fig = JSON.parse(text || "{}");
    return { data: Array.isArray(fig.data) ? fig.data : [], layout: fig.layout || {} };
  } catch {
    return { data: [], layout: {} };
  }
}

// A CSS class name the kernel sent (fallback_id), or "" if it is anything else.
export function className(id) {
  return /^[A-Za-z_][\w-]*$/.test(id || "") ? id : "";
}
