"""AttentionView: heatmap, head view and model view of an AttentionResult, in one anywidget.

The front end (js/src/attention.js, built into static/attention.js, no CDN) asks for a layer by
setting ``layer``; this side answers with that one layer as float16 bytes (``layer_data``), a
binary buffer, never JSON.  The model view gets uint8 thumbnails of every head (``grid``) sized
to fit in one layer's float16 bytes.  So the widget state, saved with the notebook, holds what is
on screen and no more.

Displaying the view makes two outputs: a static picture (``text/html``: a PNG of the view as it
was displayed, its rows and columns labelled with the escaped tokens, or layers and heads, and
its colour scale), then the widget, whose front end hides that
picture as soon as it renders.  So a live notebook shows the widget alone, and a notebook opened
without a kernel or widget state, an nbconvert HTML export, GitHub or nbviewer show the picture.
"""

from __future__ import annotations

import base64
import html
import io
import math
import uuid
from pathlib import Path

import anywidget
import numpy as np
import traitlets as t

from ..core.inside.attention import AttentionResult
from ..errors import BadArgumentError
from ..render.style import CSS, MUTED, TEXT, no_math

VIEWS = ("heatmap", "head", "model")
_GRID_MAX = 48  # px per head thumbnail in the model view
_PICTURE_PX = 480  # the static picture's longer side, at most (whole pixels per cell)
_LABEL_PX = 8  # the smallest label height that is still read: below it, label every k-th row
_LABEL_W = 110  # px at most for the row labels, and for the height of the (vertical) column labels


def grid_side(n_tokens: int, n_layers: int) -> int:
    """Thumbnail side so that layers x heads x side^2 bytes fit in one layer's float16 bytes."""
    return max(1, min(n_tokens, _GRID_MAX, math.floor(n_tokens * math.sqrt(2 / n_layers))))


def colorize(weights: np.ndarray) -> np.ndarray:
    """[rows, cols] weights in 0..1 -> uint8 RGB on the white-to-dark-blue scale of the JS views."""
    v = np.clip(weights, 0, 1)[..., None]
    return np.rint(np.array([247, 251, 255]) - v * np.array([239, 203, 148])).astype(np.uint8)


def png(rgb: np.ndarray) -> bytes:
    """A [height, width, 3] uint8 image as PNG bytes (Pillow)."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def mosaic(thumbs: np.ndarray) -> np.ndarray:
    """[layers, heads, s, s] uint8 thumbnails -> one RGB picture with 1-px white gaps."""
    n_layers, n_heads, s, _ = thumbs.shape
    out = np.full((n_layers * (s + 1), n_heads * (s + 1), 3), 255, dtype=np.uint8)
    for l in range(n_layers):
        for h in range(n_heads):
            out[l * (s + 1) : l * (s + 1) + s, h * (s + 1) : h * (s + 1) + s] = colorize(thumbs[l, h] / 255)
    return out


def _extent(labels: list[tuple[str, bool]]) -> int:
    """px that the longest label needs (about 7 px a character), at most ``_LABEL_W``."""
    return min(_LABEL_W, 7 * max((len(text) for text, _ in labels), default=0) + 10)


def _labels(labels: list[tuple[str, bool]], cell: int, extent: int, across: bool) -> str:
    """One box per row (or, ``across``, per column) of ``cell`` px, so each label sits at its row;
    where rows are too thin to read, one label per ``k`` rows, in a box ``k`` rows long.  ``extent``
    is the boxes' other side: their width, or their height across the top."""
    step = max(1, math.ceil(_LABEL_PX / cell))
    font = min(12, max(cell * step - 2, 7))
    boxes = []
    for i in range(0, len(labels), step):
        text, special = labels[i]
        size = cell * min(step, len(labels) - i)
        look = (
            f"flex:none;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;font-size:{font}px;"
            f"line-height:{size}px;color:{MUTED if special else TEXT};box-sizing:border-box;"
        )
        if across:  # read bottom to top, ending at the picture's top edge
            look += f"width:{size}px;height:{extent}px;writing-mode:vertical-rl;transform:rotate(180deg)"
        else:
            look += f"height:{size}px;width:{extent}px;text-align:right;padding-right:4px"
        boxes.append(f"<div class='fm-attention-label' style='{look}'>{html.escape(text)}</div>")
    direction = "row" if across else "column"
    return f"<div style='display:flex;flex-direction:{direction};flex:none'>{''.join(boxes)}</div>"


def _colour_scale(height: int) -> str:
    """The colour bar of ``colorize`` (linear in RGB, so two stops draw it exactly), 0 to 1."""
    low, high = (",".join(map(str, colorize(np.array([v]))[0])) for v in (0.0, 1.0))
    ticks = "".join(f"<span>{v}</span>" for v in ("1", "0.5", "0"))
    return (
        f"<div class='fm-attention-scale' style='display:flex;flex:none;margin-left:10px;height:{height}px'>"
        f"<div style='width:12px;background:linear-gradient(to top, rgb({low}), rgb({high}))'></div>"
        "<div style='display:flex;flex-direction:column;justify-content:space-between;font-size:11px;"
        "margin-left:4px'>"
        f"{ticks}</div><div style='writing-mode:vertical-rl;font-size:11px;margin-left:4px;color:{MUTED}'>"
        "attention weight</div></div>"
    )


class AttentionView(anywidget.AnyWidget):
    """Interactive attention views: ``view`` is "heatmap", "head" (token lines) or "model" (grid)."""

    _esm = Path(__file__).parent / "static" / "attention.js"
    _css = CSS  # the shared theme-aware look (render/style.py); the view's layout is in its JS

    tokens = t.List(t.Unicode()).tag(sync=True)
    special = t.List(t.Bool()).tag(sync=True)
    n_layers = t.Int(0).tag(sync=True)
    n_heads = t.Int(0).tag(sync=True)
    view = t.Enum(VIEWS, default_value="head").tag(sync=True)
    layer = t.Int(0).tag(sync=True)
    head = t.Int(-1).tag(sync=True)  # -1: mean over heads (heatmap)
    heads_on = t.List(t.Bool()).tag(sync=True)
    layer_data = t.Bytes(b"").tag(sync=True)  # float16 [heads, T, T] of data_layer
    data_layer = t.Int(-1).tag(sync=True)
    grid = t.Bytes(b"").tag(sync=True)  # uint8 [layers, heads, grid_size, grid_size]
    grid_size = t.Int(0).tag(sync=True)
    fallback_id = t.Unicode("").tag(sync=True)  # class of the static picture the front end hides

    def __init__(
        self, result: AttentionResult, view: str = "head", layer: int = 0, head: int | None = None
    ) -> None:
        if not isinstance(result, AttentionResult):
            raise BadArgumentError(
                f"AttentionView takes the result of fm.attention(text), not {type(result).__name__}; "
                "call fm.AttentionView(fm.attention(text))."
            )
        if view not in VIEWS:
            raise BadArgumentError(f"'{view}' is not an attention view; use one of {', '.join(VIEWS)}.")
        result.check(layer, head)
        self.result = result
        self.record = result.record
        self._thumbs: np.ndarray | None = None
        super().__init__(
            tokens=result.tokens,
            special=result.special,
            n_layers=result.n_layers,
            n_heads=result.n_heads,
            view=view,
            layer=layer,
            head=-1 if head is None else head,
            heads_on=[True] * result.n_heads,
            fallback_id=f"fm-fallback-{uuid.uuid4().hex[:12]}",
            **self._wire_state(view, layer, -1),
        )
        self.observe(self._send_view, names=["view", "layer"])

    @t.validate("layer")
    def _valid_layer(self, proposal):
        self.result.check(proposal["value"])
        return proposal["value"]

    @t.validate("head")
    def _valid_head(self, proposal):
        head = proposal["value"]
        if head != -1:
            self.result.check(0, head)
        return head

    def thumbnails(self) -> np.ndarray:
        """The model view's thumbnails (computed once)."""
        if self._thumbs is None:
            self._thumbs = self.result.thumbnails(grid_side(len(self.result), self.result.n_layers))
        return self._thumbs

    def _wire_state(self, view: str, layer: int, data_layer: int) -> dict:
        """What the view shows and no more: one layer's float16 bytes, or the model-view grid."""
        if view == "model":
            thumbs = self.thumbnails()
            return dict(grid=thumbs.tobytes(), grid_size=thumbs.shape[-1], layer_data=b"", data_layer=-1)
        state = dict(grid=b"", grid_size=0)
        if data_layer != layer:
            state.update(layer_data=self.result.layer_float16(layer), data_layer=layer)
        return state

    def _send_view(self, change=None) -> None:
        """Answer a change of view or layer with one message carrying the new data."""
        with self.hold_sync():
            for name, value in self._wire_state(self.view, self.layer, self.data_layer).items():
                setattr(self, name, value)

    def static_picture(self) -> np.ndarray:
        """RGB picture of the view as it stands: the grid, or the heatmap of the layer/head."""
        if self.view == "model":
            return mosaic(self.thumbnails())
        return colorize(self.result.matrix(self.layer, None if self.head < 0 else self.head))

    def static_html(self) -> str:
        """The no-kernel fallback: a PNG of the view with its rows and columns labelled (tokens, or
        layers and heads) and its colour scale, all text escaped.

        The labels are boxes of the picture's own cell size in pixels beside it, so each one lines
        up with its row or column in any renderer, with no script.
        """
        picture = self.static_picture()
        scale = max(1, _PICTURE_PX // max(picture.shape[:2]))
        uri = base64.b64encode(png(picture)).decode("ascii")
        if self.view == "model":
            which = "every layer and head"
            cell = (picture.shape[0] // self.result.n_layers) * scale  # a thumbnail and its 1-px gap
            rows = [(f"layer {i}", False) for i in range(self.result.n_layers)]
            cols = [(f"head {h}", False) for h in range(self.result.n_heads)]
            axes = "rows: layers · columns: heads (each: attending token down, attended token across)"
        else:
            which = f"layer {self.layer}, " + ("mean of heads" if self.head < 0 else f"head {self.head}")
            cell = scale
            rows = cols = list(zip(self.result.tokens, self.result.special))
            axes = "rows: the attending token · columns: the token it attends to"
        height, width = picture.shape[0] * scale, picture.shape[1] * scale
        left = _extent(rows)
        return (
            f"<div class='fm-attention-static {self.fallback_id}'>"
            f"<div><b>{html.escape(self.result.summary())}</b> — {html.escape(which)} "
            "(static picture: run the cell for the interactive view)</div>"
            f"<div style='font-size:11px;color:{MUTED}'>{html.escape(axes)}</div>"
            f"<div style='display:flex;align-items:flex-end'><div style='width:{left}px;flex:none'></div>"
            f"{_labels(cols, cell, _extent(cols), across=True)}</div>"
            f"<div style='display:flex;align-items:flex-start'>{_labels(rows, cell, left, across=False)}"
            f"<img alt='attention, {html.escape(which)}' src='data:image/png;base64,{uri}' "
            f"width='{width}' style='image-rendering:pixelated;display:block;flex:none'>"
            f"{_colour_scale(height)}</div></div>"
        )

    def __repr__(self) -> str:
        return f"<AttentionView: {self.result.summary()} · {self.view} view, layer {self.layer}>"

    def _repr_mimebundle_(self, **kwargs):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        return data, {**(metadata or {}), "fmwidgets": self.record.to_dict()}

    def _ipython_display_(self) -> None:
        """The static picture, then the widget (which hides the picture when it renders)."""
        from IPython.display import display

        display(
            {"text/html": no_math(self.static_html())},
            raw=True,
            metadata={"fmwidgets": self.record.to_dict()},
        )
        data, metadata = self._repr_mimebundle_()
        display(data, raw=True, metadata=metadata)
