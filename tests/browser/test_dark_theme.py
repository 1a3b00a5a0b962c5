"""In JupyterLab's dark theme every view's text stays readable: a screenshot of each, and the
contrast of every piece of text against the background it is drawn on (WCAG ratio >= 3)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CELLS = [
    ("%load_ext fmwidgets\nimport fmwidgets as fm, pandas as pd\n"
     "from fmwidgets.testing import CORPUS, tiny_bert, tiny_gpt2\n"
     "fm.load(str(tiny_gpt2()), as_='gpt2'); fm.load(str(tiny_bert()), as_='bert')"),
    "fm.generate('the cat', model='gpt2', max_new_tokens=5, greedy=True)",
    "fm.compare(['the cat', 'a dog'], model='gpt2', max_new_tokens=4, greedy=True)",
    "pg = fm.Playground(models=['gpt2'], prompt='the cat'); pg.max_new_tokens.value = 4; pg",
    "fm.AttentionView(fm.attention('the cat sat', model='bert'), view='heatmap')",
    ("df = pd.DataFrame({'text': CORPUS, 'label': ['pos', 'neg'] * (len(CORPUS) // 2)})\n"
     "run = fm.finetune(df, model='bert', label='label', epochs=1, batch_size=8, max_length=16)"),
    "fm.environment()",
]

# Every visible element with its own text (not inside a plotly SVG), its colour, and the first
# opaque background found walking up from it; the page's own background at the end.
TEXTS = """
() => {
  const rgba = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (let n = el; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll('.jp-OutputArea-output *')) {
    if (el.closest('svg') || !el.offsetParent) continue;
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
    if (!own) continue;
    const fg = lum(rgba(getComputedStyle(el).color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    out.push([own.slice(0, 40), Math.round(ratio * 100) / 100]);
  }
  return out;
}
"""


def test_views_read_well_in_the_dark_theme(notebook):
    nb = notebook(CELLS)
    nb.page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', "
                     "{theme: 'JupyterLab Dark'})")
    nb.page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    nb.run_all(timeout_s=400)
    nb.page.wait_for_timeout(1500)
    for index, label in [(1, "generation"), (2, "compare"), (3, "playground"), (4, "attention"),
                         (5, "training"), (6, "environment")]:
        out = nb.cell_output(index)
        out.scroll_into_view_if_needed()
        out.screenshot(path=str(nb.screenshot("dark").parent / f"dark-{label}.png"))
    texts = nb.page.evaluate(TEXTS)
    assert len(texts) > 20, texts
    unreadable = [(text, ratio) for text, ratio in texts if ratio < 3]
    assert not unreadable, f"text too close to its background in the dark theme: {unreadable[:10]}"
    nb.assert_clean()
