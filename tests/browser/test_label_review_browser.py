"""fm.LabelReview in JupyterLab: a person corrects a label by clicking, and by key; hostile text stays text."""

from __future__ import annotations

import sqlite3

import pytest

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=\"window.__pwned=1\">"


def test_correcting_a_label_by_click_lands_in_the_store(notebook, lab):
    store = lab.root / "label-review-store.sqlite"
    nb = notebook([
        "import fmwidgets as fm, pandas as pd\n"
        f"fm.settings().store_path = {str(store)!r}\n"
        "labelled = pd.DataFrame({'text': ['fine film', " + repr(HOSTILE) + ", 'great'],\n"
        "    'score_pos': [0.6, 0.3, 0.9], 'score_neg': [0.4, 0.7, 0.1], 'label': ['pos', 'neg', 'pos'],\n"
        "    'confidence': [0.6, 0.7, 0.9]})",
        "view = fm.LabelReview(labelled, text='text', name='browser')\nview",
    ])
    nb.run_all()
    out = nb.cell_output(1)
    progress = out.locator(".fm-label-review-progress")
    progress.wait_for(timeout=30_000)
    assert progress.inner_text().startswith("0 of 3 reviewed")
    assert out.locator(".fm-label-review-text").inner_text() == "fine film"
    out.locator(".fm-label-review-pick", has_text="neg").click()  # the model said pos: correct it
    nb.page.wait_for_function("el => el.textContent.startsWith('1 of 3 reviewed')",
                              arg=progress.element_handle(), timeout=20_000)
    assert out.locator(".fm-label-review-text").inner_text() == HOSTILE  # shown as text
    out.locator(".fm-label-review").focus()
    nb.page.keyboard.press("Enter")  # accept by key
    nb.page.wait_for_function("el => el.textContent.startsWith('2 of 3 reviewed')",
                              arg=progress.element_handle(), timeout=20_000)
    nb.screenshot("label-review")
    assert nb.page.evaluate("typeof window.__pwned") == "undefined"
    db = sqlite3.connect(store)
    rows = db.execute("SELECT key, value FROM kv WHERE namespace = 'label_review/browser' ORDER BY key").fetchall()
    db.close()
    assert rows == [("0", '"neg"'), ("1", '"neg"')]
    nb.assert_clean()
