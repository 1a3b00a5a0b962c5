"""AttentionView: what goes over the wire (one layer of float16 at a time), the model view grid,
the static fallback for saved notebooks, and hostile tokens."""

from __future__ import annotations

import base64
import html
import io
import re

import comm
import numpy as np
import pytest
from PIL import Image

import fmwidgets as fm
from fmwidgets.core.inside.attention import AttentionResult
from fmwidgets.errors import BadArgumentError
from fmwidgets.records import RunRecord
from fmwidgets.widgets.attention import AttentionView, grid_side

HOSTILE = "<img src=x onerror=alert(1)>"


class RecordingComm(comm.DummyComm):
    """A comm that keeps every message the widget publishes, buffers included."""

    def __init__(self, *args, **kwargs):
        self.messages = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        self.messages.append((msg_type, data or {}, [bytes(b) for b in (buffers or [])]))


@pytest.fixture
def wire(monkeypatch):
    comms = []

    def create(*args, **kwargs):
        comms.append(RecordingComm(*args, **kwargs))
        return comms[-1]

    monkeypatch.setattr(comm, "create_comm", create)
    return comms


def _result(tokens, layers=3, heads=4, seed=0):
    rng = np.random.default_rng(seed)
    n = len(tokens)
    w = rng.random((layers, heads, n, n)).astype(np.float32) ** 4
    w /= w.sum(-1, keepdims=True)
    return AttentionResult(tokens=list(tokens), special=[i == 0 for i in range(n)], layers=list(w),
                           record=RunRecord(kind="attention"))


def _front_end_sets(widget, **state):
    """Deliver an 'update' message from the browser, as the kernel would."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}},
                      "buffers": []})


def test_open_state_holds_one_layer_of_float16(wire, minilm):
    result = fm.attention("Attention views should be fast at long inputs.")
    view = AttentionView(result)
    n, heads = len(result), result.n_heads
    one_layer = heads * n * n * 2
    opened = view.comm.messages[0]
    assert opened[0] == "comm_open"
    assert sum(len(b) for b in opened[2]) == one_layer  # the only binary state: layer 0
    assert bytes(view.layer_data) == result.layer_float16(0)
    back = np.frombuffer(view.layer_data, "<f2").reshape(heads, n, n)
    np.testing.assert_allclose(back, result.weights[0], atol=1e-3)
    state = opened[1]["state"]
    assert state["tokens"] == result.tokens and state["n_layers"] == 6 and state["n_heads"] == 12


def test_a_layer_request_is_answered_with_that_layer_only(wire, minilm):
    result = fm.attention("One layer at a time, as float16 bytes.")
    view = AttentionView(result, view="head")
    channel = view.comm
    channel.messages.clear()
    _front_end_sets(view, layer=4)
    updates = [m for m in channel.messages if m[0] == "comm_msg"]
    sent = [b for m in updates for b in m[2]]
    assert sent == [result.layer_float16(4)]
    assert view.data_layer == 4
    # going back to a layer costs one layer again, never the whole tensor
    _front_end_sets(view, layer=0)
    total = sum(len(b) for m in channel.messages for b in m[2])
    assert total == 2 * len(result.layer_float16(0)) < result.weights.nbytes / 2


def test_model_view_sends_the_grid_within_one_layer(wire):
    result = _result([f"t{i}" for i in range(30)], layers=6, heads=4)
    view = AttentionView(result, view="model")
    one_layer = 4 * 30 * 30 * 2
    s = grid_side(30, 6)
    assert view.grid_size == s and len(view.grid) == 6 * 4 * s * s <= one_layer
    assert view.layer_data == b""
    np.testing.assert_array_equal(np.frombuffer(view.grid, np.uint8).reshape(6, 4, s, s), result.thumbnails(s))
    # clicking a head in the model view: the browser sets layer, head and view together
    view.comm.messages.clear()
    _front_end_sets(view, layer=2, head=3, view="heatmap")
    sent = [b for m in view.comm.messages for b in m[2] if b]  # plus the emptied grid
    assert sent == [result.layer_float16(2)]
    assert view.grid == b"" and view.head == 3


@pytest.mark.parametrize("n,layers", [(512, 12), (128, 6), (8, 2), (3, 12)])
def test_grid_side_fits_one_layer(n, layers):
    s = grid_side(n, layers)
    heads = 12
    assert 1 <= s <= min(n, 48)
    assert layers * heads * s * s <= heads * n * n * 2


def test_static_fallback_is_a_png_and_escaped_tokens(wire):
    result = _result(["[CLS]", HOSTILE, "b", "c"], layers=2, heads=2)
    view = AttentionView(result, view="heatmap", layer=1, head=0)
    page = view.static_html()
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "layer 1, head 0" in page
    png = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", page).group(1))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape == (4, 4, 3)
    # darker blue where the weight is larger
    w = result.weights[1, 0]
    i, j = np.unravel_index(np.argmax(w), w.shape)
    k, m = np.unravel_index(np.argmin(w), w.shape)
    assert image[i, j].sum() < image[k, m].sum()
    assert view.fallback_id in page
    assert "every layer and head" in AttentionView(result, view="model").static_html()


def _label_boxes(page):
    """(text, the box's side along its row or column in px) of each label, in page order."""
    return [(html.unescape(text), int(re.search(r"(?:height|width):(\d+)px", style).group(1)))
            for style, text in re.findall(r"class='fm-attention-label' style='([^']*)'>([^<]*)<", page)]


def test_static_fallback_labels_rows_and_columns_in_line_with_the_picture_and_has_a_colour_scale(wire):
    tokens = ["[CLS]", HOSTILE, "b", "c"]
    result = _result(tokens, layers=2, heads=3)
    page = AttentionView(result, view="heatmap").static_html()
    height = int(re.search(r"<img [^>]*width='(\d+)'", page).group(1))  # the picture is square
    cell = height // len(tokens)
    assert cell * len(tokens) == height  # whole pixels per token
    # the columns across the top, then the rows down the side, each one cell long
    assert [t for t, _ in _label_boxes(page)] == tokens * 2 and HOSTILE not in page
    assert [side for _, side in _label_boxes(page)] == [cell] * 8
    scale = re.search(r"class='fm-attention-scale' style='[^']*height:(\d+)px'>(.*?)</div></div>", page)
    assert int(scale.group(1)) == height and "attention weight" in scale.group(2)
    assert "rgb(247,251,255), rgb(8,48,107)" in scale.group(2)  # colorize(0) to colorize(1)

    grid = AttentionView(result, view="model").static_html()
    width = int(re.search(r"<img [^>]*width='(\d+)'", grid).group(1))
    labels = _label_boxes(grid)
    assert [t for t, _ in labels] == ["head 0", "head 1", "head 2", "layer 0", "layer 1"]
    assert {side for _, side in labels} == {width // 3}  # one thumbnail (and its gap) per label

    long = _result([f"t{i}" for i in range(200)], layers=1, heads=1)
    page = AttentionView(long, view="heatmap").static_html()
    boxes = _label_boxes(page)  # 2 px per token: one label per 4 tokens, 4 tokens long
    assert [t for t, _ in boxes[:3]] == ["t0", "t4", "t8"] and {s for _, s in boxes} == {8}


def test_display_is_the_picture_then_the_widget(wire, ip):
    from IPython.utils.capture import capture_output

    result = _result(["[CLS]", HOSTILE, "b"], layers=2, heads=2)
    view = AttentionView(result, view="head")
    with capture_output() as shown:
        ip.display_formatter.format(view)  # what a cell ending in `view` does
    picture, widget = shown.outputs
    assert list(picture.data) == ["text/html"] and view.fallback_id in picture.data["text/html"]
    assert widget.data["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    assert "text/html" not in widget.data
    assert picture.metadata["fmwidgets"]["kind"] == widget.metadata["fmwidgets"]["kind"] == "attention"


def test_hostile_tokens_travel_as_plain_strings(wire):
    result = _result(["[CLS]", HOSTILE], layers=1, heads=1)
    view = AttentionView(result)
    assert view.tokens[1] == HOSTILE  # the JS writes them with textContent (see js/tests)


def test_bad_arguments_are_one_sentence(wire):
    result = _result(["a", "b"], layers=2, heads=2)
    with pytest.raises(BadArgumentError, match="layers 0 to 1"):
        AttentionView(result, layer=2)
    with pytest.raises(BadArgumentError, match="not an attention view"):
        AttentionView(result, view="neuron")
    with pytest.raises(BadArgumentError, match="fm.attention"):
        AttentionView("some text")
    view = AttentionView(result)
    with pytest.raises(BadArgumentError, match="heads 0 to 1"):
        view.head = 5


def test_esm_bundle_ships_in_the_package():
    from pathlib import Path

    import fmwidgets.widgets.attention as mod

    bundle = Path(mod.__file__).parent / "static" / "attention.js"
    text = bundle.read_text()
    assert "export" in text and "render" in text
    assert "innerHTML" not in text and "http://" not in text and "https://" not in text
    assert "layer_data" in str(AttentionView._esm)


@pytest.mark.slow
def test_nbconvert_html_export_shows_the_picture(tmp_path, tiny_paths):
    """Executed with nbclient (widget state saved) and exported with nbconvert: the HTML shows the
    PNG and the escaped tokens whether or not the widget state is kept, and runs no token."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    cell = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(cells=[
        cell(f"import fmwidgets as fm\n_ = fm.load({str(tiny_paths['gpt2'])!r}, as_='g')"),
        cell("fm.AttentionView(fm.attention('<img src=x onerror=alert(1)> text'), view='heatmap')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    nb.cells[0].outputs = []  # the loading progress bar is another widget
    outputs = nb.cells[1].outputs
    assert [o.output_type for o in outputs] == ["display_data", "display_data"]
    assert "widgets" in nb.metadata  # nbclient saved the widget state
    for keep_state in (True, False):
        if not keep_state:
            nb.metadata.pop("widgets")
        page, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
        pictures = re.findall(r"alt=.attention, layer 0, mean of heads. src=.data:image/png;base64,", page)
        assert len(pictures) == 1  # nbconvert rewrites the quotes, hence the wildcards
        assert "&lt;" in page and "<img src=x" not in page
        assert ("application/vnd.jupyter.widget-view+json" in page) == keep_state
