"""fm.Review in JupyterLab: a person rates rows by clicking and by key, and the ratings are stored."""

from __future__ import annotations

import sqlite3

import pytest

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=\"window.__pwned=1\">"


def test_rating_rows_by_click_and_key_lands_in_the_store(notebook, lab):
    store = lab.root / "review-store.sqlite"
    nb = notebook([
        "%load_ext fmwidgets\nimport fmwidgets as fm, pandas as pd\nfrom fmwidgets import testing\n"
        f"fm.settings().store_path = {str(store)!r}",
        "fm.load(str(testing.tiny_gpt2('tiny-gpt2')), as_='gpt2')\n"
        f"df = pd.DataFrame({{'q': ['one', {HOSTILE!r}, 'three'], 'a': ['1', '2', '3']}})\n"
        "run = fm.evaluate(df, 'Q: {q}\\nA:', reference='a', name='browser-review', greedy=True, max_new_tokens=3)",
        "view = fm.Review(run)\nview",
    ])
    nb.run_all()
    out = nb.cell_output(2)
    progress = out.locator(".fm-review-progress")
    progress.wait_for(timeout=30_000)
    assert progress.inner_text().startswith("row 1 of 3 · 0 rated")
    out.locator(".fm-review-comment").fill("fine <b>answer</b>")
    out.locator(".fm-review-rate", has_text="good").click()
    nb.page.wait_for_function("el => el.textContent.startsWith('row 2 of 3 · 1 rated')",
                              arg=progress.element_handle(), timeout=20_000)
    assert HOSTILE in out.locator(".fm-review-fields").inner_text()  # the row's text, shown as text
    out.locator(".fm-review").focus()
    nb.page.keyboard.press("-")  # thumbs down by key
    nb.page.wait_for_function("el => el.textContent.startsWith('row 3 of 3 · 2 rated')",
                              arg=progress.element_handle(), timeout=20_000)
    nb.screenshot("review-rated")
    assert nb.page.evaluate("typeof window.__pwned") == "undefined"
    db = sqlite3.connect(store)
    rows = db.execute("SELECT pos, rating, comment FROM ratings WHERE run = "
                      "(SELECT MAX(id) FROM runs WHERE name = 'browser-review') ORDER BY pos").fetchall()
    db.close()
    assert rows == [(0, 1.0, "fine <b>answer</b>"), (1, 0.0, None)]
    nb.assert_clean()
