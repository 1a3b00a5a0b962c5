"""%%fm prompt --code LANG: the output as highlighted (escaped) code."""

import pytest


def test_prompt_code_shows_highlighted_escaped_code(gpt2, ip):
    from IPython.utils.capture import capture_output

    from fmwidgets.errors import BadArgumentError
    from fmwidgets.render.generate import code_bundle

    with capture_output() as shown:
        assert ip.run_cell_magic("fm", "prompt --code python --greedy --max-new-tokens 4 --out g", "def f(") is None
    page = shown.outputs[0].data["text/html"]
    assert "fm-code" in page and ip.user_ns["g"].text in shown.outputs[0].data["text/plain"]
    html = code_bundle(["x = '<script>'"], "python")["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "style=" in html
    with pytest.raises(BadArgumentError, match="not a language"):
        ip.run_cell_magic("fm", "prompt --code klingon --greedy", "x")
