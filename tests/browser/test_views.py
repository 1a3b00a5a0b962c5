"""What a person sees in JupyterLab: the playground streams and stops, the embedding map draws
and shows text on hover, the explorer draws with the page's plotly.js and sends a box selection to
Python, the attention head view draws lines and follows the layer picker, the
fine-tune curve grows while training, and hostile DataFrame text runs no script."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser

SETUP = "%load_ext fmwidgets\nimport fmwidgets as fm, pandas as pd\nfrom fmwidgets import testing"


def lengths_while(page, read, done, seconds: float) -> list[int]:
    """Sample ``read()`` every 50 ms until ``done()`` or ``seconds`` pass."""
    seen: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not done():
        seen.append(read())
        page.wait_for_timeout(50)
    return seen


def test_playground_streams_and_stop_stops(notebook):
    nb = notebook([
        SETUP,
        "fm.load(str(testing.tiny_gpt2('tiny-gpt2', context=1024)), as_='gpt2')",
        "pg = fm.Playground(prompt='the cat sat on the')\n"
        "pg.max_new_tokens.value = 600\npg.seed.value = 3\npg",
    ])
    nb.run_all()
    out = nb.cell_output(2)
    generate, stop = out.locator("button", has_text="Generate"), out.locator("button", has_text="Stop")
    text = out.locator(".widget-html pre").first

    def shown() -> int:
        return len(text.text_content()) if text.count() else 0

    generate.click()
    nb.page.wait_for_function("b => b.disabled", arg=generate.element_handle(), timeout=20_000)
    seen = lengths_while(nb.page, shown, generate.is_enabled, 120)
    nb.page.wait_for_timeout(300)
    full = shown()
    nb.screenshot("playground-streamed")
    growing = sorted(set(n for n in seen if 0 < n < full))
    assert len(growing) >= 2, f"the text did not stream (lengths seen {seen[:20]}..., final {full})"
    assert generate.is_enabled() and stop.is_disabled()

    generate.click()
    lengths_while(nb.page, shown, lambda: stop.is_enabled() and shown() > 10, 60)
    stop.click()
    nb.page.wait_for_function("b => !b.disabled", arg=generate.element_handle(), timeout=20_000)
    nb.page.wait_for_timeout(500)
    stopped = shown()
    nb.screenshot("playground-stopped")
    assert 0 < stopped < full, f"Stop did not stop the run ({stopped} of {full} characters)"
    nb.assert_clean()


def test_embedding_map_draws_and_hover_shows_the_text(notebook):
    nb = notebook([
        SETUP,
        "fm.load()",
        "df = pd.DataFrame({'text': ['the cat sat on the mat', 'a dog chased the ball',\n"
        "                            'stocks fell on monday', 'markets rallied today'],\n"
        "                   'topic': ['pets', 'pets', 'money', 'money']})\n"
        "pts = fm.project(fm.embed(df, text='text'), method='pca')",
        "fm.plot_embeddings(pts, color='topic', hover='text', data=df)",
    ])
    nb.run_all()
    plot = nb.plots(3).first
    plot.wait_for(timeout=30_000)
    assert plot.evaluate("gd => gd._fullData.map(t => t.type)") == ["scattergl", "scattergl"]
    assert plot.locator(".gl-canvas-context, canvas").count() >= 1
    label = nb.hover_point(plot, 0, 0)
    nb.screenshot("embedding-hover")
    texts = plot.evaluate("gd => gd._fullData[0].text")
    assert label.strip() and label.strip() in texts[0]
    nb.assert_clean()


def test_explorer_draws_with_the_pages_plotly_js_and_a_box_selection_reaches_python(notebook):
    nb = notebook([
        SETUP,
        "fm.load()",
        "df = pd.DataFrame({'text': ['the cat sat on the mat', 'a dog chased the ball',\n"
        "                            'stocks fell on monday', 'markets rallied today'],\n"
        "                   'topic': ['pets', 'pets', 'money', 'money']})",
        "explorer = fm.EmbeddingExplorer(df, text='text', color='topic')\nexplorer",
    ])
    nb.run_all()
    out = nb.cell_output(3)
    plot = out.locator(".fm-figure-view .js-plotly-plot")
    plot.wait_for(timeout=30_000)
    assert plot.evaluate("gd => gd._fullData.map(t => t.type)") == ["scattergl", "scattergl"]
    # the static copy displayed before the widget (plotly.js came with it) is hidden once the view drew
    nb.page.wait_for_function("els => els.every(gd => gd.closest('.fm-figure-view') || !gd.offsetParent)",
                              arg=out.locator(".js-plotly-plot").element_handles(), timeout=10_000)
    label = nb.hover_point(plot, 0, 0)
    assert label.strip() and label.strip() in plot.evaluate("gd => gd._fullData[0].text")
    # a box selection over the whole plot area, as a person drags it with the modebar's box tool
    plot.hover()
    plot.locator(".modebar-btn[data-val=select]").click()
    x0, y0, x1, y1 = plot.evaluate(
        "gd => { const s = gd._fullLayout._size, r = gd.getBoundingClientRect();"
        " return [r.left + s.l + 2, r.top + s.t + 2, r.left + s.l + s.w - 2, r.top + s.t + s.h - 2]; }")
    nb.page.mouse.move(x0, y0)
    nb.page.mouse.down()
    nb.page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    nb.page.mouse.move(x1, y1, steps=5)
    nb.page.mouse.up()
    status = out.locator(".widget-label", has_text="rows selected")
    status.wait_for(timeout=20_000)  # set by Python once the selection arrived
    nb.screenshot("explorer-selected")
    assert status.text_content().startswith("4 rows selected")
    nb.assert_clean()


def canvas_digest(locator) -> tuple[int, str]:
    """(pixels drawn, a digest of the picture) of a canvas."""
    return tuple(locator.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
        " for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return [n, c.toDataURL()]; }"))


def test_attention_head_view_draws_lines_and_follows_the_layer(notebook):
    nb = notebook([
        SETUP,
        "fm.load()",
        "fm.AttentionView(fm.attention('the cat sat on the mat because it was warm'), view='head')",
    ])
    nb.run_all()
    out = nb.cell_output(2)
    canvas = out.locator("canvas.fm-attn-lines")
    canvas.wait_for(timeout=30_000)
    nb.page.wait_for_timeout(500)
    drawn, first = canvas_digest(canvas)
    assert drawn > 100, "the head view drew no lines"
    tokens = out.locator(".fm-attn-col div")
    assert "cat" in tokens.all_text_contents()
    nb.screenshot("attention-layer0")
    out.locator("select[aria-label=layer]").select_option("3")
    nb.page.wait_for_function(
        "([c, before]) => c.isConnected ? c.toDataURL() !== before : true",
        arg=[canvas.element_handle(), first], timeout=20_000)
    nb.page.wait_for_timeout(300)
    drawn_after, second = canvas_digest(out.locator("canvas.fm-attn-lines"))
    nb.screenshot("attention-layer3")
    assert drawn_after > 100 and second != first
    nb.assert_clean()


def test_finetune_curve_grows_while_training(notebook):
    nb = notebook([
        SETUP,
        "fm.load()",
        "words = ['good', 'great', 'fine', 'bad', 'awful', 'sad']\n"
        "df = pd.DataFrame({'text': [f'{a} {b} day' for a in words for b in words] * 3,\n"
        "                   'label': [('pos' if a in words[:3] else 'neg') for a in words for b in words] * 3})",
        "result = fm.finetune(df, text='text', label='label', epochs=2, batch_size=4, seed=0)",
    ])
    nb.start_all()
    plots = nb.plots(3)

    def points() -> int:
        if not plots.count():
            return 0
        return plots.first.evaluate("gd => (gd.data && gd.data[0] && gd.data[0].x) ? gd.data[0].x.length : 0")

    seen = lengths_while(nb.page, points, nb.finished, 300)
    nb.page.wait_for_timeout(1000)
    nb.screenshot("finetune-curve")
    final = points()
    growing = sorted(set(n for n in seen if 0 < n < final))
    assert growing, f"the loss curve did not grow while training (seen {seen[:30]}..., final {final})"
    assert plots.first.evaluate("gd => gd.layout.title.text") == "Loss"
    nb.assert_clean()


HOSTILE = ['<img src=x onerror="window.__pwned=1">', "<script>window.__pwned=2</script>",
           '"><svg onload="window.__pwned=3">', "a plain sentence about cats"]


def test_hostile_dataframe_text_runs_no_script(notebook):
    nb = notebook([
        SETUP,
        f"HOSTILE = {HOSTILE!r}\n"
        "df = pd.DataFrame({'text': HOSTILE, 'label': HOSTILE})",
        "fm.load(str(testing.tiny_gpt2('tiny-gpt2')), as_='gpt2')\n"
        "fm.generate_df(df, '{text}', max_new_tokens=3, seed=0)",
        "fm.load(str(testing.tiny_bert('tiny-bert')), as_=HOSTILE[0])\nfm.models()",
        "fm.environment()",
        "fm.load()\nfm.similar(HOSTILE[1], df, text='text', k=3)",
        "fm.plot_embeddings(fm.project(fm.embed(df, text='text'), method='pca'), color='label', hover='text', data=df)",
        "fm.AttentionView(fm.attention(HOSTILE[0]), view='head')",
        "fm.Playground(models=['gpt2'], prompt=HOSTILE[2])",
    ])
    nb.run_all()
    plot = nb.plots(6).first
    plot.wait_for(timeout=30_000)
    n_traces = plot.evaluate("gd => gd._fullData.length")
    for t in range(n_traces):
        nb.hover_point(plot, t, 0)
    nb.cell_output(8).locator("button", has_text="Generate").click()
    nb.page.wait_for_timeout(2000)
    nb.screenshot("hostile")
    assert nb.page.evaluate("typeof window.__pwned") == "undefined"
    outputs = nb.page.locator(".jp-OutputArea")
    assert outputs.locator("img[src=x], svg[onload], script:text('__pwned')").count() == 0
    assert HOSTILE[0] in nb.cell_output(2).inner_text()  # shown as text, not run
    nb.assert_clean()
