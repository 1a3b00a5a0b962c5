"""TeX from data or a model is shown as written in JupyterLab, whose MathJax typesets HTML outputs.

An evaluation over rows holding ``$\\frac{a}{b}$`` and ``\\(x^2\\)`` shows its worst-rows table; a plain
HTML output with the same TeX beside it is the control: MathJax draws that one (so it is loaded and
running), and must draw nothing in fmwidgets' output.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

FRACTION, POWER = "$\\frac{a}{b}$", "\\(x^2\\)"


def test_an_evaluations_worst_rows_show_tex_from_data_as_text(notebook, lab):
    nb = notebook([
        "%load_ext fmwidgets\nimport fmwidgets as fm, pandas as pd\nfrom fmwidgets import testing\n"
        f"fm.settings().store_path = {str(lab.root / 'tex-store.sqlite')!r}\n"
        "fm.load(str(testing.tiny_gpt2('tiny-gpt2')), as_='gpt2')",
        f"df = pd.DataFrame({{'q': [{FRACTION!r}, {POWER!r}], 'a': ['$x^2$', '$$y$$']}})\n"
        "run = fm.evaluate(df, 'Q: {q}\\nA:', reference='a', name='tex', greedy=True, max_new_tokens=3)\n"
        "display(run)\n"
        "from IPython.display import HTML\n"
        f"HTML('<p class=\"control\">' + {FRACTION!r} + '</p>')",
    ])
    nb.run_all()
    out = nb.cell_output(1)
    out.locator(".control mjx-container").wait_for(timeout=60_000)  # MathJax has typeset the control
    nb.page.wait_for_timeout(1_000)  # and has had time to reach the output before it
    assert out.locator("mjx-container").count() == 1
    text = out.locator("table").nth(1).inner_text()  # the worst rows (the first table is the summary)
    assert FRACTION in text and POWER in text and "$x^2$" in text and "$$y$$" in text
    nb.screenshot("tex-as-text")
    nb.assert_clean()
