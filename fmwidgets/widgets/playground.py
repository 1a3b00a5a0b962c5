"""The prompt playground: try prompts and settings on one or several decoders, side by side.

Generation runs in a background thread so the Stop button (and the rest of the notebook) stays
responsive; Stop sets an event that a stopping criterion checks after every token.  While a run
is going the Generate button is disabled and a second click is ignored, so one click is one run.
Every run lands in a history table, and "Copy as cell" writes the ``%%fm prompt`` cell that
reproduces it (same model, settings and seed).  Text from models is escaped before it is shown.
The prompt is sent as written: ``{name}`` is not filled from notebook variables (a widget has no
cell to read them from when the user clicks), and a note under the prompt box says so whenever
the prompt holds a brace; "Copy as cell" escapes the braces so the cell sends the same text.

The history is a plain output under the widget (``widgets/fallback.py``), updated after every
run, so a saved notebook shows the runs without a kernel; the last run's outputs are repeated
above it there, hidden while the widget renders.
"""

from __future__ import annotations

import html
import shlex
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from ..core.models.registry import get_model, registry
from ..core.prompting.generate import Generation, generate_text
from ..core.prompting.sampling import MAX_NEW_TOKENS
from ..core.prompting.template import escape
from ..errors import FMError, NoModelLoadedError
from ..provenance.history import recording
from ..render.style import BORDER, cell_style, error, pre
from ..render.style import note as note_html
from .fallback import PlainOutput
from .stream import Throttle

LABEL_WIDTH = "7.5em"  # the settings' labels, so the longest ("top k (0 off)") is shown whole
BRACES_NOTE = (
    "{…} is sent as written: the playground does not fill placeholders from notebook variables "
    "(%%fm prompt does)."
)


@dataclass
class Run:
    """One model's output for one click of Generate (a click with several models makes several)."""

    model: str
    prompt: str
    generation: Generation
    click: int  # which click produced it, counted from 0


def _pre(text: str, note: str = "") -> str:
    return pre(text, margin="0") + (note_html(note) if note else "")


def cell_for(gen: Generation, prompt: str) -> str:
    """The ``%%fm prompt`` cell that repeats ``gen`` (its prompt's braces escaped)."""
    p = gen.record.params
    flags = [f"--model {shlex.quote(str(gen.record.model_name))}", f"--max-new-tokens {p['max_new_tokens']}"]
    if not p.get("do_sample"):
        flags.append("--greedy")
    else:
        flags += [
            f"--{k.replace('_', '-')} {p[k]}"
            for k in ("temperature", "top_p", "top_k")
            if p.get(k) is not None
        ]
        flags.append(f"--seed {gen.record.seed}")
    flags.append("--chat" if p.get("chat") else "--no-chat")
    return "%%fm prompt " + " ".join(flags) + "\n" + escape(prompt)


class Playground(w.VBox):
    """Prompt box, sliders, model picker, Generate / Stop, streaming outputs, history."""

    def __init__(self, models: Sequence[str] | None = None, prompt: str = "") -> None:
        names = list(models) if models else [h.name for h in registry if "generate" in h.features]
        if not names:
            raise NoModelLoadedError(
                "The playground needs a decoder and none is loaded; load one first, e.g. %fm load gpt2."
            )
        names = [get_model(n, "generate").name for n in names]
        self.prompt = w.Textarea(
            value=prompt, placeholder="Write a prompt…", layout=w.Layout(width="100%", height="6em")
        )
        # ipywidgets gives a label about 80 px, which cuts "temperature" and "top k (0 off)"
        label = dict(style={"description_width": LABEL_WIDTH})
        self.max_new_tokens = w.IntSlider(
            value=MAX_NEW_TOKENS, min=1, max=1024, description="max tokens", **label
        )
        self.temperature = w.FloatSlider(
            value=0.8, min=0.05, max=2.0, step=0.05, description="temperature", **label
        )
        self.top_p = w.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="top p", **label)
        self.top_k = w.IntSlider(value=0, min=0, max=200, description="top k (0 off)", **label)
        self.greedy = w.Checkbox(value=False, description="greedy")
        self.seed = w.IntText(value=0, description="seed", **label)
        self.picker = w.SelectMultiple(
            options=names, value=(names[0],), description="models", rows=min(4, len(names))
        )
        self.generate_button = w.Button(description="Generate", button_style="primary", icon="play")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.copy_button = w.Button(description="Copy as cell", icon="copy", disabled=True)
        self.status = w.HTML()
        self.braces = w.HTML()  # says that {name} is sent as written, while the prompt holds a brace
        self.outputs = w.HBox(layout=w.Layout(width="100%"))
        self.cell = w.Textarea(
            placeholder="“Copy as cell” puts the %%fm prompt cell of the last run here.",
            layout=w.Layout(width="100%", height="5em"),
        )
        self.runs: list[Run] = []
        self.plain = PlainOutput()
        self._boxes: dict[str, w.HTML] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.running = False

        self.generate_button.on_click(self.generate)
        self.stop_button.on_click(self.stop)
        self.copy_button.on_click(lambda _: self.copy_as_cell())
        self.picker.observe(lambda _: self._layout_outputs(), names="value")
        self.prompt.observe(lambda _: self._note_braces(), names="value")
        self._note_braces()
        self._layout_outputs()
        sliders = w.VBox(
            [self.max_new_tokens, self.temperature, self.top_p, self.top_k, w.HBox([self.greedy, self.seed])]
        )
        super().__init__(
            [
                self.prompt,
                self.braces,
                w.HBox([sliders, self.picker]),
                w.HBox([self.generate_button, self.stop_button, self.copy_button, self.status]),
                self.outputs,
                self.cell,
                self.plain.hider(),
            ]
        )

    # -- settings -----------------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """The generate keywords the widgets are set to."""
        params: dict[str, Any] = {"max_new_tokens": self.max_new_tokens.value}
        if self.greedy.value:
            params["greedy"] = True
        else:
            params.update(greedy=False, temperature=self.temperature.value, seed=self.seed.value)
            if self.top_p.value < 1:
                params["top_p"] = self.top_p.value
            if self.top_k.value > 0:
                params["top_k"] = self.top_k.value
        return params

    def _note_braces(self) -> None:
        has = "{" in self.prompt.value or "}" in self.prompt.value
        self.braces.value = note_html(BRACES_NOTE) if has else ""

    def _layout_outputs(self) -> None:
        self._boxes = {
            n: self._boxes.get(n)
            or w.HTML(layout=w.Layout(flex="1", border=f"1px solid {BORDER}", padding="4px"))
            for n in self.picker.value
        }
        self.outputs.children = [
            w.VBox([w.HTML(f"<b>{html.escape(n)}</b>"), box]) for n, box in self._boxes.items()
        ]

    # -- buttons ------------------------------------------------------------------------------

    def generate(self, _: Any = None) -> bool:
        """Start a run in the background; False (and nothing started) while one is running."""
        with self._lock:
            if self.running:
                return False
            self.running = True
        self._stop.clear()
        self.generate_button.disabled, self.stop_button.disabled = True, False
        self.status.value = "generating…"
        job = (self.prompt.value, list(self.picker.value), self.params())
        self._thread = threading.Thread(target=self._run, args=job, daemon=True, name="fm-playground")
        self._thread.start()
        return True

    def stop(self, _: Any = None) -> None:
        """Ask the running generation to stop after its current token (it keeps its text)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current run has finished (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def copy_as_cell(self, index: int = -1) -> str:
        """The ``%%fm prompt`` cell reproducing run ``index`` (default: the last), also shown in ``cell``."""
        if not self.runs:
            raise FMError("There is no run to copy yet; press Generate first.")
        run = self.runs[index]
        self.cell.value = cell_for(run.generation, run.prompt)
        return self.cell.value

    # -- the run ------------------------------------------------------------------------------

    def _run(self, prompt: str, names: list[str], params: dict[str, Any]) -> None:
        click = self.runs[-1].click + 1 if self.runs else 0
        try:
            for name in names:
                box = self._boxes.get(name) or w.HTML()

                def show(texts: list[str], box: Any = box) -> None:
                    box.value = _pre(texts[0], "generating…")

                view = Throttle(show)
                try:
                    # recorded as the public call the user would write, without the widget's callbacks
                    with recording(generate_text, prompt, public="generate", model=name, **params) as call:
                        gen = call.done(
                            generate_text(prompt, model=name, on_text=view, stop_event=self._stop, **params)
                        )
                except FMError as exc:
                    self.status.value = error(str(exc))
                    return
                box.value = _pre(gen.text, gen.summary())
                self.runs.append(Run(name, prompt, gen, click))
                if self._stop.is_set():
                    break
            self.status.value = "stopped" if self._stop.is_set() else "done"
        finally:
            self._render_history()
            self.copy_button.disabled = not self.runs
            self.generate_button.disabled, self.stop_button.disabled = False, True
            with self._lock:
                self.running = False

    @property
    def history(self):
        """The runs as a DataFrame: model, prompt, output, settings, speed, why it stopped."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "model": r.model,
                    "prompt": r.prompt,
                    "output": r.generation.text,
                    "params": r.generation.record.params,
                    "seed": r.generation.record.seed,
                    "tokens_per_s": round(r.generation.tokens_per_s, 1),
                    "stopped": r.generation.stopped,
                }
                for r in self.runs
            ]
        )

    def history_html(self) -> str:
        """The runs as an HTML table (every text escaped); empty before the first run."""
        if not self.runs:
            return ""
        td = f'style="{cell_style()}"'
        rows = "".join(
            f"<tr><td {td}>{i}</td><td {td}>{html.escape(r.model)}</td>"
            f"<td {td}>{html.escape(r.prompt[:200])}</td><td {td}>{html.escape(r.generation.text[:300])}</td>"
            f"<td {td}>{html.escape(r.generation.summary())}</td></tr>"
            for i, r in enumerate(self.runs)
        )
        head = "".join(f"<th {td}>{h}</th>" for h in ("#", "model", "prompt", "output", "settings"))
        return f'<table class="fm-history" style="border-collapse:collapse;font-size:12px"><tr>{head}</tr>{rows}</table>'

    def picture(self) -> dict[str, str]:
        """The plain output: the last run's texts (hidden under the live widget), then the history."""
        last = (
            "".join(
                f"<div><b>{html.escape(r.model)}</b>{_pre(r.generation.text)}</div>"
                for r in self.runs
                if r.click == self.runs[-1].click
            )
            if self.runs
            else ""
        )
        return {
            "text/html": self.plain.hidden_by_widget(last) + self.history_html(),
            "text/plain": f"<Playground: {len(self.runs)} runs>",
        }

    def _render_history(self) -> None:
        self.plain.update(self.picture())

    def _ipython_display_(self) -> None:
        """The widget, then its history as a plain output (what a saved notebook shows)."""
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
        self.plain.show(self.picture())
