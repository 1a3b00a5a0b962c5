"""fm.load and the registry: families, re-loading, and one clear sentence for every failure."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading

import pytest

import fmwidgets as fm
from fmwidgets.core.models.registry import registry


def snapshot():
    return list(registry.names()), registry.current


def test_embedded_default_loads_offline():
    handle = fm.load()
    assert handle.name == "all-MiniLM-L6-v2"
    assert handle.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert handle.family == "encoder" and handle.source == "embedded"
    assert handle.commit.startswith("sha256:")
    assert handle.device == "cpu" and handle.dtype == "float32"
    assert registry.current == handle.name
    assert handle.model.config._attn_implementation == "eager"
    card = handle.card()
    assert (card["layers"], card["heads"], card["hidden"], card["context"]) == (6, 12, 384, 512)
    assert "embed" in handle.features and "generate" not in handle.features


@pytest.mark.parametrize(
    "key, family, head, feature",
    [
        ("gpt2", "decoder", "causal-lm", "generate"),
        ("bert", "encoder", "masked-lm", "fill_mask"),
        ("clip", "clip", "clip", "clip"),
    ],
)
def test_tiny_checkpoints_load_with_their_family(tiny_paths, key, family, head, feature):
    handle = fm.load(str(tiny_paths[key]), as_=key)
    assert (handle.family, handle.head) == (family, head)
    assert feature in handle.features
    assert handle.source == "local" and handle.commit.startswith("sha256:")
    if family == "clip":
        assert handle.processor is not None
    if family == "decoder":
        assert handle.tokenizer.pad_token is not None
    assert f"features: " in repr(handle)


def test_same_load_twice_returns_the_same_handle(tiny_paths):
    first = fm.load(str(tiny_paths["gpt2"]), as_="g")
    fm.load(str(tiny_paths["bert"]), as_="b")
    again = fm.load(str(tiny_paths["gpt2"]), as_="g")
    assert again is first and registry.current == "g"


def test_name_taken_by_another_model_is_refused_and_nothing_changes(tiny_paths):
    fm.load(str(tiny_paths["gpt2"]), as_="m")
    before = snapshot()
    with pytest.raises(fm.BadArgumentError, match="already used by model .*--as"):
        fm.load(str(tiny_paths["bert"]), as_="m")
    assert snapshot() == before and registry.get("m").family == "decoder"


def _one_sentence(message: str) -> None:
    body = message.rstrip(".")
    assert message.endswith(".") and ". " not in body.replace("e.g. ", ""), message


@pytest.mark.parametrize(
    "model, error, pattern",
    [
        ("gpt2-does-not-exist", fm.ModelNotFoundError, "HF_HUB_OFFLINE=1 is set.*local folder"),
        ("./no/such/folder", fm.ModelNotFoundError, "No folder './no/such/folder' exists"),
    ],
)
def test_missing_models_say_what_to_do(tiny_paths, model, error, pattern):
    fm.load(str(tiny_paths["gpt2"]), as_="keep")
    before = snapshot()
    with pytest.raises(error, match=pattern) as info:
        fm.load(model)
    _one_sentence(str(info.value))
    assert snapshot() == before


def test_folder_without_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(fm.ModelNotFoundError, match="holds no model .*save_pretrained"):
        fm.load(str(tmp_path))
    assert len(registry) == 0


def test_broken_weights_in_a_folder(tiny_paths, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(tiny_paths["gpt2"], folder)
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(fm.ModelLoadError, match="could not be read") as info:
        fm.load(str(folder))
    assert info.value.__cause__ is not None
    assert len(registry) == 0


def test_model_that_needs_remote_code(tiny_paths, tmp_path):
    folder = tmp_path / "custom"
    shutil.copytree(tiny_paths["gpt2"], folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["model_type"] = "my-custom-model"
    cfg["auto_map"] = {"AutoConfig": "configuration_x.XConfig", "AutoModelForCausalLM": "modeling_x.XModel"}
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(fm.RemoteCodeRequiredError, match="--trust-remote-code") as info:
        fm.load(str(folder))
    _one_sentence(str(info.value))
    assert len(registry) == 0


def _load_in_subprocess(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=240)


def test_unreachable_hub_is_named_as_such():
    # A closed loopback port stands in for a hub that cannot be reached.
    proc = _load_in_subprocess(
        """
        import fmwidgets as fm
        try:
            fm.load("someone/some-model")
        except fm.ModelNotFoundError as e:
            print("MSG", e)
        """,
        {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "2",
         "HF_HUB_DOWNLOAD_TIMEOUT": "2", "HF_HOME": "/tmp/fm-empty-hf-home"},
    )
    assert "MSG" in proc.stdout, proc.stderr[-2000:]
    assert "the hub could not be reached" in proc.stdout


class _NotFoundHub(http.server.BaseHTTPRequestHandler):
    """A hub that answers every request as the real one does for an unknown repository."""

    def _not_found(self):
        self.send_response(404)
        self.send_header("X-Error-Code", "RepositoryNotFound")
        self.send_header("X-Error-Message", "Repository not found")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b'{"error":"Repository not found"}')

    do_GET = do_HEAD = _not_found

    def log_message(self, *args):
        pass


def test_unknown_id_on_a_reachable_hub():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFoundHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc = _load_in_subprocess(
            """
            import fmwidgets as fm
            try:
                fm.load("someone/no-such-model")
            except fm.ModelNotFoundError as e:
                print("MSG", e)
            """,
            {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
             "HF_HOME": "/tmp/fm-empty-hf-home"},
        )
    finally:
        server.shutdown()
    assert "MSG" in proc.stdout, proc.stderr[-2000:]
    assert "is not a model on the Hugging Face hub (the hub answered" in proc.stdout


def test_out_of_memory_while_loading(tiny_paths, tmp_path):
    # A real allocation failure: the address space is capped below what the weights need.
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path / "big"
    GPT2LMHeadModel(GPT2Config(vocab_size=60000, n_embd=1024, n_layer=1, n_head=8)).save_pretrained(folder)
    for f in tiny_paths["gpt2"].glob("tokenizer*"):
        shutil.copy(f, folder)
    proc = _load_in_subprocess(
        f"""
        import resource, fmwidgets as fm
        from fmwidgets.core.models.registry import registry
        fm.load({str(tiny_paths["gpt2"])!r}, as_="small")  # imports everything loading needs
        with open("/proc/self/status") as fh:
            vm = [int(l.split()[1]) for l in fh if l.startswith("VmSize")][0] * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + 150 * 2**20, resource.RLIM_INFINITY))
        try:
            fm.load({str(folder)!r}, as_="big")
        except fm.OutOfMemoryError as e:
            print("MSG", e, "| registry:", registry.names(), registry.current)
        """,
        {"OMP_NUM_THREADS": "1"},
    )
    assert "MSG" in proc.stdout, (proc.stdout + proc.stderr)[-2000:]
    assert "does not fit in the free memory of cpu" in proc.stdout
    assert "registry: ['small'] small" in proc.stdout


def test_use_unload_and_unknown_names(tiny_paths):
    fm.load(str(tiny_paths["gpt2"]), as_="a")
    fm.load(str(tiny_paths["bert"]), as_="b")
    assert registry.current == "b"
    fm.use("a")
    assert registry.current == "a"
    before = snapshot()
    for call in (fm.use, fm.unload):
        with pytest.raises(fm.UnknownModelNameError, match="No model named 'zzz' is loaded \\(loaded: a, b\\)"):
            call("zzz")
        assert snapshot() == before
    fm.unload("a")
    assert registry.names() == ["b"] and registry.current == "b"


def test_nothing_loaded_yet():
    from fmwidgets.core.models.registry import get_model

    with pytest.raises(fm.NoModelLoadedError, match="run %fm load"):
        get_model()


def test_wrong_family_names_what_the_model_can_do(minilm):
    from fmwidgets.core.models.registry import get_model

    with pytest.raises(fm.WrongFamilyError) as err:
        get_model(feature="generate")
    assert str(err.value) == (  # one sentence that reads as one: "cannot <verb>", "it can <verbs>"
        f"Model '{minilm.name}' is an encoder and cannot generate text (%%fm prompt, fm.generate): load "
        "a GPT-style decoder such as gpt2 for that; it can embed texts (%fm embed, fm.embed), find "
        "nearest neighbours (%fm similar), show attention (%fm attention) and be fine-tuned (%fm finetune)."
    )


def test_bad_device_and_dtype_are_refused(tiny_paths):
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(fm.BadArgumentError, match="no usable CUDA GPU"):
            fm.load(str(tiny_paths["gpt2"]), device="cuda")
    with pytest.raises(fm.BadArgumentError, match="not a dtype"):
        fm.load(str(tiny_paths["gpt2"]), dtype="float8")
    with pytest.raises(fm.BadArgumentError, match="not a task"):
        fm.load(str(tiny_paths["gpt2"]), task="translate")
    assert len(registry) == 0


def test_task_picks_the_head(tiny_paths):
    handle = fm.load(str(tiny_paths["bert"]), as_="cls", task="classification")
    assert handle.head == "classification" and "predict" in handle.features
    assert type(handle.model).__name__ == "BertForSequenceClassification"


def test_models_table(tiny_paths):
    fm.load(str(tiny_paths["gpt2"]), as_="g")
    fm.load(str(tiny_paths["bert"]), as_="b", dtype="bfloat16")
    table = fm.models()
    assert list(table.columns) == ["name", "id", "family", "head", "params", "device", "dtype", "memory_mb", "provider", "current"]
    assert table.set_index("name").loc["b", "dtype"] == "bfloat16"
    assert table["current"].tolist() == [False, True]
    assert (table["params"] > 0).all()


def test_config_default_device_reaches_load(tiny_paths):
    fm.settings().device = "cpu"
    try:
        assert fm.load(str(tiny_paths["gpt2"]), as_="g").device == "cpu"
    finally:
        fm.settings().device = "auto"


def test_card_html_is_escaped(tiny_paths):
    handle = fm.load(str(tiny_paths["gpt2"]), as_="<img src=x onerror=alert(1)>")
    card = handle._repr_mimebundle_()["text/html"]
    assert "<img" not in card and "&lt;img" in card
