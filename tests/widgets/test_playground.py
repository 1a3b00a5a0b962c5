"""The playground driven headless: Generate, Stop, double click, copy as cell, escaping."""

import pytest

from fmwidgets.core.prompting.generate import generate_text
from fmwidgets.errors import NoModelLoadedError, WrongFamilyError
from fmwidgets.widgets.playground import Playground


def make(models=None, prompt="the cat sat", **settings):
    pg = Playground(models=models, prompt=prompt)
    pg.greedy.value = settings.pop("greedy", True)
    for name, value in settings.items():
        getattr(pg, name).value = value
    return pg


def test_generate_runs_in_the_background_and_shows_the_text(gpt2):
    pg = make(max_new_tokens=6)
    pg.generate_button.click()
    pg.wait(30)
    assert not pg.running and not pg.generate_button.disabled and pg.stop_button.disabled
    (run,) = pg.runs
    expected = generate_text("the cat sat", max_new_tokens=6, greedy=True).text
    assert run.generation.text == expected
    assert pg.status.value == "done" and not pg.copy_button.disabled
    assert pg.history.loc[0, "output"] == expected


def test_stop_ends_a_running_generation_and_keeps_its_text(gpt2):
    pg = make(max_new_tokens=100)
    box = pg._boxes["gpt2"]
    box.observe(lambda change: pg.stop_button.click(), names="value")  # Stop at the first streamed text
    pg.generate_button.click()
    pg.wait(60)
    (run,) = pg.runs
    gen = run.generation
    assert gen.stopped == "stopped" and 0 < gen.steps < 100
    assert pg.status.value == "stopped"


def test_double_click_starts_one_run(gpt2):
    pg = make(max_new_tokens=60)
    assert pg.generate() is True
    assert pg.generate_button.disabled
    assert pg.generate() is False  # the second click while running is ignored
    pg.generate_button.click()
    pg.wait(60)
    assert len(pg.runs) == 1


def test_copy_as_cell_reproduces_the_run(gpt2, ip):
    pg = make(prompt="the {cat} sat {{", greedy=False, max_new_tokens=8, temperature=1.2, seed=11, top_k=40)
    pg.generate_button.click()
    pg.wait(30)
    pg.copy_button.click()
    cell = pg.cell.value
    first, body = cell.split("\n", 1)
    assert first.startswith("%%fm prompt --model gpt2 --max-new-tokens 8 --temperature 1.2 --top-k 40 --seed 11")
    assert body == "the {{cat}} sat {{{{"  # braces escaped: the magic gives back the same prompt
    assert "sent as written" in pg.braces.value  # the box says that {cat} is not filled from the notebook
    pg.prompt.value = "no braces"
    assert pg.braces.value == ""
    again = ip.run_cell(cell).result  # as if pasted into a notebook cell and run
    assert again.prompt == "the {cat} sat {{"
    assert again.text == pg.runs[0].generation.text


def test_several_models_side_by_side_and_escaped_history(gpt2, chat_gpt2):
    pg = make(models=["gpt2", "chat"], prompt="<b>bold</b> & more", max_new_tokens=3)
    pg.picker.value = ("gpt2", "chat")
    assert len(pg.outputs.children) == 2
    pg.generate_button.click()
    pg.wait(30)
    assert [r.model for r in pg.runs] == ["gpt2", "chat"]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in pg.history_html()
    assert "<b>bold</b>" not in pg.history_html()
    page = pg.picture()["text/html"]  # what a saved notebook shows: the last run and the history
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page and "<b>bold</b>" not in page
    assert f"<div class='{pg.plain.css_class}'>" in page
    for run, box in zip(pg.runs, pg._boxes.values()):
        assert box.value.startswith("<pre") and run.generation.summary().split(" · ")[1] in box.value


def test_a_local_and_an_api_model_side_by_side_and_stop_keeps_the_served_text(api_model, served_local, ip):
    pg = make(models=["local", "srv"], prompt="hello world", max_new_tokens=6)
    pg.picker.value = ("local", "srv")
    pg.generate_button.click()
    pg.wait(60)
    assert [r.model for r in pg.runs] == ["local", "srv"] and pg.status.value == "done"
    for run in pg.runs:  # each as fm.generate gives it: the served model always chats
        assert run.generation.text == generate_text("hello world", model=run.model, max_new_tokens=6, greedy=True).text
    assert "in / 6 out tokens" in pg._boxes["srv"].value and "out tokens" not in pg._boxes["local"].value
    pg.copy_as_cell()
    assert ip.run_cell(pg.cell.value).result.text == pg.runs[1].generation.text
    pg.picker.value = ("srv",)
    pg.max_new_tokens.value = 300
    pg._boxes["srv"].observe(lambda change: pg.stop_button.click(), names="value")  # Stop at the first text
    pg.generate_button.click()
    pg.wait(60)
    stopped = pg.runs[-1].generation
    whole = generate_text("hello world", model="srv", max_new_tokens=300, greedy=True)
    assert stopped.stopped == "stopped" and pg.status.value == "stopped"
    assert stopped.text and whole.text.startswith(stopped.text) and len(stopped.text) < len(whole.text)


def test_errors_are_shown_as_one_sentence_and_nothing_hangs(gpt2):
    pg = make(prompt="   ")
    pg.generate_button.click()
    pg.wait(30)
    assert "empty" in pg.status.value and not pg.running and not pg.runs
    with pytest.raises(Exception, match="no run to copy"):
        pg.copy_as_cell()


def test_needs_a_decoder(bert):
    with pytest.raises(WrongFamilyError):
        Playground(models=["bert"])


def test_needs_a_model():
    with pytest.raises(NoModelLoadedError, match="needs a decoder"):
        Playground()


def test_every_setting_label_is_shown_whole(gpt2):
    """JupyterLab draws a widget's label in 13 px type in a box of ``description_width`` (80 px by
    default, which cut "temperature"); each label must fit its box, less the box's 8 px of margin."""
    from pathlib import Path

    from PIL import ImageFont

    font_file = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Chromium's sans on Linux
    if not font_file.exists():
        pytest.skip("DejaVu Sans is not installed here (fonts-dejavu-core)")
    font = ImageFont.truetype(str(font_file), 13)
    pg = make(["gpt2"])
    labelled = [pg.max_new_tokens, pg.temperature, pg.top_p, pg.top_k, pg.seed]
    assert font.getlength("temperature") > 80 - 8  # the default box is too small for it
    for control in labelled:
        width = control.style.description_width
        assert width.endswith("em"), width
        assert font.getlength(control.description) <= float(width[:-2]) * 13 - 8, control.description
