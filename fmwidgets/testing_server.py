"""A real OpenAI-compatible server and a fault-injecting proxy, for tests, benchmarks and demos.

``ServedModel`` runs ``transformers serve FOLDER`` (the ``transformers[serving]`` extra) on a
free loopback port as its own process group, so the API-model code talks HTTP to a real server
exactly as it would to vLLM or OpenAI; ``FaultProxy`` sits in front of it (starlette's request
and response types, httpx to forward, uvicorn in a thread) and answers chosen requests with 429,
503, a dropped connection or any reply, forwards the rest, and counts every request.  Nothing
here mocks a client: the openai and anthropic SDKs make their real requests through it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A loopback TCP port nothing listens on (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_command() -> list[str]:
    """``transformers serve``, from the same environment as this Python."""
    script = Path(sys.executable).with_name("transformers")
    return [str(script)] if script.exists() else [sys.executable, "-m", "transformers.cli.transformers"]


class ServedModel:
    """``transformers serve FOLDER`` on 127.0.0.1; ``base_url`` ends with ``/v1``, ``model`` is
    the name requests must give (the folder).  Use as a context manager, or ``start``/``stop``."""

    def __init__(self, folder: str | Path, port: int | None = None, log: str | Path | None = None) -> None:
        self.folder = str(folder)
        self.port = port or free_port()
        self.log = Path(log) if log else Path(self.folder).with_suffix(".serve.log")
        self.process: subprocess.Popen | None = None

    @property
    def model(self) -> str:
        return self.folder

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    what = "transformers serve"

    def command(self) -> list[str]:
        """The server's command line (a subclass serves with another program)."""
        return _serve_command() + [
            "serve",
            self.folder,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--device",
            "cpu",
        ]

    def start(self, timeout: float = 90.0) -> ServedModel:
        """Start the server and wait for ``/health`` (6-20 s here); its output goes to ``log``."""
        env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        env.setdefault("OMP_NUM_THREADS", "1")
        command = self.command()
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.what} exited ({self.process.returncode}); see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.what} did not answer /health in {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        """End the server's whole process group (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(5)

    def __enter__(self) -> ServedModel:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# Converts a Hugging Face folder to GGUF with llama.cpp's own converter, run as a script with two
# changes for the test models: their byte-level BPE, trained for the test, has no entry in the
# converter's table of known pre-tokenizers (it is GPT-2's), and no sentencepiece model to try first.
_TO_GGUF = """
import runpy, sys
home, folder, out = sys.argv[1:4]
sys.path[:0] = [home, home + "/gguf-py"]
from conversion import base, llama
known = base.TextModel.get_vocab_base_pre
def pre_tokenizer(self, tokenizer):
    try:
        return known(self, tokenizer)
    except NotImplementedError:
        return "gpt-2"
base.TextModel.get_vocab_base_pre = pre_tokenizer
llama.LlamaModel.set_vocab = lambda self: self._set_vocab_gpt2()
sys.argv = ["convert_hf_to_gguf.py", folder, "--outfile", out, "--outtype", "f32"]
runpy.run_path(home + "/convert_hf_to_gguf.py", run_name="__main__")
"""


def llama_home() -> Path | None:
    """Where ``scripts/llama_server.sh`` built llama-server (``FM_LLAMA_SERVER``, else the
    checkout's ``.cache/llama-server``), or None when it has not been built."""
    home = Path(
        os.environ.get("FM_LLAMA_SERVER") or Path(__file__).resolve().parents[1] / ".cache" / "llama-server"
    )
    return home if (home / "bin" / "llama-server").exists() else None


class LlamaServer(ServedModel):
    """llama.cpp's ``llama-server`` over a Hugging Face folder (converted to GGUF, f32, beside
    it): an OpenAI-compatible server that returns log-probabilities, and Anthropic's Messages API
    at ``url`` (``/v1/messages``).  Requests name the model by its folder, as with ``ServedModel``."""

    what = "llama-server"

    def __init__(self, folder: str | Path, home: str | Path, port: int | None = None) -> None:
        super().__init__(folder, port, Path(folder).with_suffix(".llama.log"))
        self.home = Path(home)
        self.gguf = Path(folder).with_suffix(".gguf")

    def command(self) -> list[str]:
        if not self.gguf.exists():
            subprocess.run(
                [sys.executable, "-c", _TO_GGUF, str(self.home), self.folder, str(self.gguf)],
                check=True,
                capture_output=True,
                env=dict(os.environ, HF_HUB_OFFLINE="1"),
            )
        return [
            str(self.home / "bin" / "llama-server"),
            *("-m", str(self.gguf), "--alias", self.folder, "--jinja"),
            *("--host", "127.0.0.1", "--port", str(self.port), "-c", "1024", "-t", "1"),
        ]


# What a fault does: a status code with a small JSON error, "drop" (the connection closes half-way
# through the reply), "slow" (forwarded, each streamed event SLOW_PAUSE seconds after the last: a
# server that takes its time, so a test can interrupt it mid-reply), or (status, body) / (status, text, media type) for any other reply: a
# dict or list body is sent as JSON, a text as text/plain unless a media type is given.
Fault = int | str | tuple[int, Any] | tuple[int, str, str]

SLOW_PAUSE = 0.05
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


class FaultProxy:
    """A forwarding proxy to ``upstream`` that answers chosen requests itself, and counts them all.

    ``faults`` maps a request's number (1 = the first request the proxy sees after ``reset``) to a
    ``Fault``; ``rule(number, path, body) -> Fault | None`` decides by content (a fault that must
    hit one row however often it is retried).  429s carry ``Retry-After: 1``.  ``requests`` counts
    the requests, ``log`` holds ``(number, path, body, answer)`` for each, ``headers`` their
    headers, ``peak`` the most requests that were in flight at once.
    """

    def __init__(
        self,
        upstream: str,
        faults: dict[int, Fault] | None = None,
        rule: Callable[[int, str, bytes], Fault | None] | None = None,
        port: int | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: dict[int, Fault] = dict(faults or {})
        self.rule = rule
        self.port = port or free_port()
        self.log: list[tuple[int, str, bytes, str]] = []
        self.headers: list[dict[str, str]] = []
        self.peak = 0
        self._flying = 0
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def requests(self) -> int:
        return len(self.log)

    def reset(self, faults: dict[int, Fault] | None = None, rule: Any = None) -> FaultProxy:
        """Forget the count and the log; set new faults (and rule)."""
        with self._lock:
            self.log.clear()
            self.headers.clear()
            self.peak = 0
            self.faults = dict(faults or {})
            self.rule = rule
        return self

    def wait_idle(self, timeout: float = 30.0) -> FaultProxy:
        """Wait until no request is in flight (those a cancelled client left running upstream
        finish there), so that ``peak`` counts only what comes next."""
        deadline = time.monotonic() + timeout
        while self._flying and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def count(self, path: str = "/chat/completions") -> int:
        """How many requests went to a path ending with ``path``."""
        return sum(1 for _, p, _, _ in list(self.log) if p.endswith(path))

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        from starlette.requests import Request

        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        path = request.url.path
        with self._lock:
            number = len(self.log) + 1
            fault = self.faults.get(number)
            if fault is None and self.rule is not None:
                fault = self.rule(number, path, body)
            self.log.append((number, path, body, "forwarded" if fault is None else str(fault)))
            self.headers.append(dict(request.headers))
            self._flying += 1
            self.peak = max(self.peak, self._flying)
        try:
            await self._answer(fault, request, body, scope, receive, send)
        finally:
            with self._lock:
                self._flying -= 1

    async def _answer(
        self, fault: Fault | None, request: Any, body: bytes, scope: dict, receive: Any, send: Any
    ) -> None:
        from starlette.responses import JSONResponse, Response

        if fault == "drop":
            # Promise a body, send part of it, then fail: the server closes the connection.
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]}
            )
            await send({"type": "http.response.body", "body": b'{"id": "', "more_body": True})
            raise ConnectionAbortedError("FaultProxy dropped this connection on purpose")
        if isinstance(fault, int):
            headers = {"Retry-After": "1"} if fault == 429 else {}
            kind = "rate_limit_exceeded" if fault == 429 else "server_error"
            reply: Response = JSONResponse(
                {"error": {"message": f"injected {fault}", "type": kind, "code": kind}},
                status_code=fault,
                headers=headers,
            )
            await reply(scope, receive, send)
            return
        if isinstance(fault, tuple):
            status, content, *media = fault
            reply = (
                Response(content, status_code=status, media_type=media[0] if media else "text/plain")
                if isinstance(content, (str, bytes))
                else JSONResponse(content, status_code=status)
            )
            await reply(scope, receive, send)
            return
        await self._forward(request, body, send, SLOW_PAUSE if fault == "slow" else 0.0)

    async def _forward(self, request: Any, body: bytes, send: Callable, pause: float = 0.0) -> None:
        """The upstream reply as it comes; with a ``pause``, one server-sent event at a time."""
        import asyncio

        import httpx

        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        url = self.upstream + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        async with httpx.AsyncClient(timeout=None) as client:
            async with client.stream(request.method, url, headers=headers, content=body) as reply:
                out = [
                    (k.encode(), v.encode()) for k, v in reply.headers.items() if k.lower() not in _HOP_BY_HOP
                ]
                await send({"type": "http.response.start", "status": reply.status_code, "headers": out})
                pending = b""
                async for chunk in reply.aiter_raw():
                    if not pause:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        continue
                    *events, pending = (pending + chunk).split(b"\n\n")
                    for event in events:
                        await asyncio.sleep(pause)
                        await send({"type": "http.response.body", "body": event + b"\n\n", "more_body": True})
                await send({"type": "http.response.body", "body": pending, "more_body": False})

    def start(self) -> FaultProxy:
        """Serve on 127.0.0.1 from a daemon thread (uvicorn); returns once it listens."""
        import uvicorn

        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="critical", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fm-fault-proxy", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"The fault proxy did not start on port {self.port}.")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def chat_body(body: bytes) -> dict[str, Any]:
    """A logged request body as JSON ({} when it is not JSON)."""
    try:
        return json.loads(body or b"{}")
    except ValueError:
        return {}


def model_list(model: str) -> dict[str, Any]:
    """A ``/v1/models`` body as an OpenAI-compatible server that returns log-probabilities sends
    it (llama.cpp's llama-server: ``owned_by`` "llamacpp")."""
    return {
        "object": "list",
        "data": [{"id": model, "object": "model", "created": 0, "owned_by": "llamacpp"}],
    }


def logprobs_reply(model: str, tokens: list[tuple[str, dict[str, float]]]) -> dict[str, Any]:
    """A chat-completion body with ``logprobs.content``, field for field as llama.cpp's
    llama-server sends it for ``logprobs=true, top_logprobs=K`` (OpenAI and vLLM send the same
    fields, without llama-server's token ``id``).  ``tokens`` is [(token, {alternative:
    probability})]: each token's own probability is its entry among the alternatives."""
    import math

    def entry(token: str, p: float, n: int) -> dict[str, Any]:
        return {"id": n, "token": token, "bytes": list(token.encode()), "logprob": math.log(p)}

    content = []
    for token, alternatives in tokens:
        ranked = sorted(alternatives.items(), key=lambda item: -item[1])
        ids = {t: n for n, (t, _) in enumerate(ranked)}
        top = [entry(t, p, ids[t]) for t, p in ranked]
        content.append({**entry(token, alternatives[token], ids[token]), "top_logprobs": top})
    return {
        "id": "chatcmpl-fmtest",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "system_fingerprint": "b0-unknown",
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": "".join(t for t, _ in tokens)},
                "logprobs": {"content": content},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(tokens), "total_tokens": 10 + len(tokens)},
    }


def serving_logprobs(
    model: str, reply: Callable[[dict[str, Any]], list[tuple[str, dict[str, float]]]]
) -> Callable[[int, str, bytes], Fault | None]:
    """A ``FaultProxy`` rule that makes the proxy a server returning log-probabilities: it lists
    ``model`` and answers each chat completion with ``logprobs_reply(model, reply(request))``."""

    def rule(number: int, path: str, body: bytes) -> Fault | None:
        if path.endswith("/models"):
            return 200, model_list(model)
        if path.endswith("/chat/completions"):
            return 200, logprobs_reply(model, reply(chat_body(body)))
        return None

    return rule
