"""In JupyterLab's dark theme every view's text stays readable: a screenshot of each, and the
contrast of every piece of text against the background it is drawn on (WCAG ratio >= 3): HTML
outputs, the anywidgets (attention, review, label review) and the text of Plotly figures (axes,
titles, legends; the figures theme themselves, display.THEME_SCRIPT)."""

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
    ("evaluation = fm.evaluate(pd.DataFrame({'q': ['one', 'two'], 'a': ['1', '2']}), 'Q: {q}\\nA:', model='gpt2',\n"
     "                         reference='a', name='dark-review', greedy=True, max_new_tokens=3)\n"
     "review = fm.Review(evaluation); review.rate(1, advance=False); review"),
    ("labelled = pd.DataFrame({'text': ['fine film', 'dull'], 'score_pos': [0.6, 0.3], 'score_neg': [0.4, 0.7],\n"
     "                         'label': ['pos', 'neg'], 'confidence': [0.6, 0.7]})\n"
     "fm.LabelReview(labelled, text='text', name='dark')"),
]
VIEWS = [(1, "generation"), (2, "compare"), (3, "playground"), (4, "attention"), (5, "training"),
         (6, "environment"), (7, "review"), (8, "label-review")]

# Every visible element with its own text (plotly SVG text above), its colour, and the first
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
  // Plotly figures: axis ticks and titles, the figure title, legends and colour bars (not the
  // numbers written on heatmap cells, which sit on the cell's own colour)
  for (const gd of document.querySelectorAll('.jp-OutputArea-output .js-plotly-plot')) {
    const paper = rgba(getComputedStyle(gd.querySelector('.main-svg')).backgroundColor);
    const bg = lum(paper.length >= 3 && (paper.length < 4 || paper[3] > 0.5) ? paper : background(gd));
    for (const t of gd.querySelectorAll('.infolayer text, .xtick text, .ytick text, .g-xtitle text, .g-ytitle text')) {
      if (!t.textContent.trim()) continue;
      const fg = lum(rgba(getComputedStyle(t).fill));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      out.push(['plotly: ' + t.textContent.trim().slice(0, 32), Math.round(ratio * 100) / 100]);
    }
  }
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


def test_views_read_well_in_the_dark_theme(notebook, lab):
    store = lab.root / "dark-store.sqlite"
    nb = notebook([CELLS[0] + f"\nfm.settings().store_path = {str(store)!r}", *CELLS[1:]])
    nb.page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', "
                     "{theme: 'JupyterLab Dark'})")
    nb.page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    nb.run_all(timeout_s=400)
    nb.page.wait_for_timeout(1500)
    nb.cell_output(7).locator(".fm-review button.fm-on").wait_for(timeout=30_000)
    nb.cell_output(8).locator(".fm-label-review-text").wait_for(timeout=30_000)
    for index, label in VIEWS:
        out = nb.cell_output(index)
        out.scroll_into_view_if_needed()
        out.screenshot(path=str(nb.screenshot("dark").parent / f"dark-{label}.png"))
    texts = nb.page.evaluate(TEXTS)
    assert len(texts) > 20, texts
    assert sum(text.startswith("plotly: ") for text, _ in texts) >= 5, texts  # the loss curve's axes
    unreadable = [(text, ratio) for text, ratio in texts if ratio < 3]
    assert not unreadable, f"text too close to its background in the dark theme: {unreadable[:10]}"
    nb.assert_clean()
