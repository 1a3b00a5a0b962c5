"""fm.Review(comparison) in JupyterLab: a person presses 1 (the left output) and = (tie), and the
verdicts are stored as a / b / tie through the order the pair was shown in; hostile text stays text."""

from __future__ import annotations

import sqlite3

import pytest

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=\"window.__pwned=1\">"


def test_pressing_1_on_a_pair_stores_the_left_runs_output_as_preferred(notebook, lab):
    store = lab.root / "pair-review-store.sqlite"
    nb = notebook([
        "import fmwidgets as fm, pandas as pd\n"
        f"fm.settings().store_path = {str(store)!r}\n"
        f"logs = pd.DataFrame({{'q': ['one', 'two'], 'ref': ['1', '2'], 'x': ['1', {HOSTILE!r}], 'y': ['uno', '2']}})\n"
        "fm.evaluate(logs, output='x', prompt='Q: {q}', reference='ref', name='v1', progress=False)\n"
        "fm.evaluate(logs, output='y', prompt='Q: {q}', reference='ref', name='v2', progress=False)\n"
        "diff = fm.compare_evaluations('v1', 'v2')",
        "view = fm.Review(diff, seed=0)\nview",
    ])
    nb.run_all()
    out = nb.cell_output(1)
    progress = out.locator(".fm-pair-progress")
    progress.wait_for(timeout=30_000)
    assert progress.inner_text() == "v1 vs v2: pair 1 of 2 · 0 reviewed"
    left = out.locator(".fm-pair-left .fm-pair-text").inner_text()
    out.locator(".fm-pair-review").focus()
    nb.page.keyboard.press("1")
    nb.page.wait_for_function("el => el.textContent.endsWith('pair 2 of 2 · 1 reviewed')",
                              arg=progress.element_handle(), timeout=20_000)
    assert HOSTILE in out.locator(".fm-pair-sides").inner_text()  # the output, shown as text
    out.locator(".fm-pair-comment").fill("same <b>quality</b>")
    out.locator(".fm-pair-choose[data-value='=']").click()
    nb.page.wait_for_function("el => el.textContent.endsWith('2 reviewed')",
                              arg=progress.element_handle(), timeout=20_000)
    nb.screenshot("pair-reviewed")
    assert nb.page.evaluate("typeof window.__pwned") == "undefined"
    db = sqlite3.connect(store)
    rows = db.execute("SELECT pos, verdict, shown, output_a, output_b, comment FROM preferences "
                      "WHERE review = 'v1 vs v2' ORDER BY pos").fetchall()
    db.close()
    (pos, verdict, shown, out_a, out_b, comment), second = rows
    assert (pos, comment) == (0, None) and verdict == shown[0]  # 1 = the left output = the shown order's first
    assert left == {"a": out_a, "b": out_b}[verdict]
    assert second == (1, "tie", second[2], HOSTILE, "2", "same <b>quality</b>")
    nb.assert_clean()
