"""``fm.Chat``: a chat window over ``fm.chat`` — message box, streaming reply, Stop, bubbles.

Like the playground, each reply is generated in a background thread so Stop (an event checked
after every token) and the notebook stay responsive; Send is disabled while a reply is running.
The bubbles are ``render/chat.py``'s escaped HTML (the assistant's Markdown rendered safely),
which is also the widget's static picture in a saved notebook.  "Copy as cell" writes the
``%%fm chat`` cells that replay the conversation; "Export" gives the messages as JSON.
"""

from __future__ import annotations

import html
import json
import shlex
import threading
from typing import Any

import ipywidgets as w

from ..core.models.registry import get_model
from ..core.prompting.chat import ChatReply, chat_reply
from ..errors import FMError
from ..provenance.history import recording
from ..provenance.literals import keyword_names
from ..render.chat import conversation_html
from ..render.style import error, no_math
from .fallback import StaticBeside
from .stream import Throttle


class Chat(StaticBeside, w.VBox):
    """A conversation with one chat model; ``conversation`` and ``replies`` hold what was said."""

    def __init__(
        self,
        model: str | None = None,
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        **generation: Any,
    ) -> None:
        keyword_names(generation)  # "Copy as cell" writes them back as --flags
        self.model = get_model(model, "generate").name
        self.system, self.generation = system, dict(generation, max_new_tokens=max_new_tokens)
        self.conversation: list[dict[str, str]] = []
        self.replies: list[ChatReply] = []
        self.view = w.HTML(layout=w.Layout(width="100%", max_height="480px", overflow="auto"))
        self.message = w.Textarea(placeholder="Write a message…", layout=w.Layout(width="100%", height="4em"))
        self.send_button = w.Button(description="Send", button_style="primary", icon="paper-plane")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.clear_button = w.Button(description="Clear", icon="trash")
        self.copy_button = w.Button(description="Copy as cell", icon="copy")
        self.export_button = w.Button(description="Export JSON", icon="download")
        self.status = w.HTML()
        self.output = w.Textarea(
            placeholder="“Copy as cell” / “Export JSON” put their text here.",
            layout=w.Layout(width="100%", height="5em"),
        )
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.running = False
        self.send_button.on_click(self.send)
        self.stop_button.on_click(lambda _: self._stop.set())
        self.clear_button.on_click(lambda _: self.clear())
        self.copy_button.on_click(lambda _: self.copy_as_cell())
        self.export_button.on_click(lambda _: self.export())
        super().__init__(
            [
                w.HTML(f"<b>chat · {html.escape(self.model)}</b>"),
                self.view,
                self.message,
                w.HBox(
                    [
                        self.send_button,
                        self.stop_button,
                        self.clear_button,
                        self.copy_button,
                        self.export_button,
                        self.status,
                    ]
                ),
                self.output,
            ]
        )

    def send(self, _: Any = None, message: str | None = None) -> bool:
        """Send the message box (or ``message``) in the background; False while a reply is running."""
        text = self.message.value if message is None else message
        with self._lock:
            if self.running or not text.strip():
                return False
            self.running = True
        self._stop.clear()
        self.message.value = ""
        self.send_button.disabled, self.stop_button.disabled = True, False
        self.status.value = "answering…"
        self._thread = threading.Thread(target=self._run, args=(text,), daemon=True, name="fm-chat")
        self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current reply is complete (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, text: str) -> None:
        asked = self.conversation + [{"role": "user", "content": text}]

        def show(texts: list[str]) -> None:
            self.view.value = conversation_html(asked + [{"role": "assistant", "content": texts[0]}])

        try:
            # recorded as the public call the user would write, without the widget's callbacks
            with recording(
                chat_reply,
                text,
                public="chat",
                model=self.model,
                conversation=self.conversation or None,
                system=self.system,
                **self.generation,
            ) as call:
                reply = call.done(
                    chat_reply(
                        text,
                        model=self.model,
                        conversation=self.conversation or None,
                        system=self.system,
                        on_text=Throttle(show),
                        stop_event=self._stop,
                        **self.generation,
                    )
                )
            self.replies.append(reply)
            self.conversation = list(reply.conversation)
            self.status.value = "stopped" if reply.stopped == "stopped" else ""
        except FMError as exc:
            self.status.value = error(str(exc))
        finally:
            self.view.value = conversation_html(self.conversation)
            self.send_button.disabled, self.stop_button.disabled = False, True
            with self._lock:
                self.running = False
            self.refresh_static()

    def clear(self) -> None:
        """Start a new conversation."""
        self.conversation, self.replies = [], []
        self.view.value = self.status.value = ""
        self.refresh_static()

    def copy_as_cell(self) -> str:
        """``%%fm chat`` cells that replay the user's messages with the same settings."""
        flags = [f"--model {shlex.quote(self.model)}"]
        flags += [
            f"--{k.replace('_', '-')} {shlex.quote(str(v))}"
            for k, v in self.generation.items()
            if v is not None and not isinstance(v, bool)
        ]
        flags += [f"--{k.replace('_', '-')}" for k, v in self.generation.items() if v is True]
        users = [m["content"] for m in self.conversation if m["role"] == "user"]
        cells = []
        for i, text in enumerate(users):
            extra = (
                (" --new" + (f" --system {shlex.quote(self.system)}" if self.system else ""))
                if i == 0
                else ""
            )
            cells.append(f"%%fm chat {' '.join(flags)}{extra}\n{text}")
        self.output.value = "\n\n".join(cells)
        return self.output.value

    def export(self) -> str:
        """The conversation as a JSON list of {"role", "content"} messages."""
        self.output.value = json.dumps(self.conversation, ensure_ascii=False, indent=1)
        return self.output.value

    def static_picture(self) -> dict[str, str]:
        """The conversation as escaped HTML: what a saved notebook shows under the window."""
        said = f"chat · {self.model}: {len(self.conversation)} messages"
        return {"text/html": no_math(conversation_html(self.conversation)), "text/plain": said}
