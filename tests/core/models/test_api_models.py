"""Loading API-served models against a real server (transformers serve) and its proxy: the handle,
its card, the one-sentence refusals, and keys that never show."""

from __future__ import annotations

import json
import sys

import pytest

import fmwidgets as fm
from fmwidgets.core.models.loading import load_spec
from fmwidgets.model_spec import ModelSpec
from fmwidgets.errors import BadArgumentError, MissingDependencyError, RemoteModelError, WrongFamilyError


def test_the_models_table_counts_parameters_in_whole_numbers_beside_a_served_model(served, proxy, served_local):
    fm.load(served.model, base_url=proxy.base_url, as_="srv", timeout=30)
    table = fm.models().set_index("name")
    assert table.loc["local", "params"] == sum(p.numel() for p in served_local.model.parameters())
    assert table["params"].isna().tolist() == [False, True]  # the server does not say
    assert ".0" not in table["params"].to_string()


def test_load_a_served_model_shows_family_provider_and_host(served, proxy):
    handle = fm.load(served.model, base_url=proxy.base_url, as_="srv", max_concurrency=3, timeout=30)
    assert isinstance(handle, fm.RemoteHandle) and handle.family == "api"
    assert proxy.count("/models") == 1  # the load asked once whether the server serves the model
    row = fm.models().set_index("name").loc["srv"]
    assert (row["family"], row["provider"], row["device"]) == ("api", "openai", f"127.0.0.1:{proxy.port}")
    card = handle.card()
    assert card["max_concurrency"] == 3 and card["timeout"] == "30 s" and card["max_retries"] == 6
    assert "RemoteHandle 'srv'" in repr(handle) and "openai at 127.0.0.1" in repr(handle)
    html = handle._repr_mimebundle_()["text/html"]
    assert "srv" in html and "api (openai)" in html
    assert handle.can("generate") and handle.can("stream") and handle.can("chat")
    assert not handle.can("token_logprobs")  # transformers serve ignores logprobs
    # the spec (what a prompt version pins) finds the same model again, and loads it where it is not
    spec = handle.spec()
    assert spec == ModelSpec(source="api", model=served.model, provider="openai", base_url=proxy.base_url)
    assert load_spec(spec, "the prompt 'p@1'") is handle
    fm.unload("srv")
    again = load_spec(ModelSpec.from_dict(spec.to_dict(), "a file"), "the prompt 'p@1'")
    assert again.spec() == spec and again.name != "srv"


def test_load_magic_takes_the_api_flags(ip, served, proxy):
    handle = ip.run_line_magic(
        "fm", f"load {served.model} --base-url {proxy.base_url} --max-concurrency 2 --max-retries 1 --as m"
    )
    assert (handle.name, handle.max_concurrency, handle.endpoint.max_retries) == ("m", 2, 1)
    assert "m" in ip.run_line_magic("fm", "list")["name"].tolist()
    assert ip.run_line_magic("fm", "info m") is handle


def test_openai_prefix_reads_the_base_url_and_key_from_the_environment(served, proxy, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", proxy.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fmtest-env-0123456789")
    handle = fm.load(f"openai:{served.model}", as_="big")
    assert handle.endpoint.key_variable == "OPENAI_API_KEY"
    assert handle.spec().to_dict() == dict(
        source="api",
        model=served.model,
        provider="openai",
        base_url=proxy.base_url,
        api_key_env="OPENAI_API_KEY",
    )
    assert proxy.headers[-1]["authorization"] == "Bearer sk-fmtest-env-0123456789"
    assert "sk-fmtest" not in repr(handle) + json.dumps(handle.card()) + json.dumps(handle.spec().to_dict())


def test_each_load_error_is_one_sentence_before_anything_is_registered(served, proxy, monkeypatch):
    from fmwidgets.testing_server import free_port

    def refused(match, **kwargs):
        with pytest.raises(fm.FMError, match=match) as caught:
            fm.load(kwargs.pop("model", served.model), as_="x", **kwargs)
        assert "x" not in fm.models()["name"].tolist()
        return caught.value

    refused(
        r"Nothing answers at 127\.0\.0\.1:\d+ \(ConnectError\)", base_url=f"http://127.0.0.1:{free_port()}/v1"
    )
    error = refused(
        r"does not serve 'nope'; it serves: " + served.model, model="nope", base_url=proxy.base_url
    )
    assert isinstance(error, RemoteModelError)
    refused("must not carry credentials", base_url="http://user:sk-secret@127.0.0.1:1/v1")
    refused("must start with http", base_url="ftp://127.0.0.1/v1")
    refused(
        "FM_TEST_UNSET, which is not set.*fm.set_api_key\\('FM_TEST_UNSET'\\)",
        base_url=proxy.base_url,
        api_key_env="FM_TEST_UNSET",
    )
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    refused(r"ANTHROPIC_API_KEY, which is not set.*fm.set_api_key\('anthropic'\)", model="anthropic:claude-x")
    refused("not to an API-served model", base_url=proxy.base_url, device="cpu")
    refused("neither a provider", base_url=proxy.base_url, api_key_env="sk-looks-like-a-key")
    refused("max_concurrency must be at least 1", base_url=proxy.base_url, max_concurrency=0)
    # a 401 names the variable to set, and the key the server echoed is not repeated
    monkeypatch.setenv("FM_TEST_KEY", "sk-fmtest-wrong-0123456789")
    proxy.reset(
        rule=lambda n, path, body: (
            401,
            {"error": {"message": "Incorrect API key sk-fmtest-wrong-0123456789"}},
        )
    )
    error = refused(
        r"refused the API key from FM_TEST_KEY \(401", base_url=proxy.base_url, api_key_env="FM_TEST_KEY"
    )
    assert "sk-fmtest" not in str(error) and "sk-fmtest" not in str(error.__cause__)
    # no SDK: the pip command (the import system refuses the module, as when it is not installed)
    proxy.reset()
    monkeypatch.setitem(sys.modules, "openai", None)
    refused(r"pip install 'fmwidgets\[api\]'", base_url=proxy.base_url)
    assert issubclass(MissingDependencyError, ImportError)


def test_features_that_need_weights_say_so_in_one_sentence(api_model):
    with pytest.raises(
        WrongFamilyError, match=r"served by openai at 127\.0\.0\.1:\d+ and cannot show attention"
    ):
        api_model.require("attention")
    with pytest.raises(WrongFamilyError, match="does not return log-probabilities"):
        fm.token_probs("the cat", model="srv")
    with pytest.raises(BadArgumentError, match="takes chat messages"):
        fm.generate("hi", model="srv", chat=False, stream=False)
    with pytest.raises(BadArgumentError, match="num_beams is a setting of transformers"):
        fm.generate("hi", model="srv", num_beams=1, stream=False)
    with pytest.raises(BadArgumentError, match="engine="):
        fm.generate_df(
            __import__("pandas").DataFrame({"q": ["a"]}), "{q}", model="srv", engine="ray", progress=False
        )


def test_set_api_key_keeps_the_typed_key_in_memory_only(served, proxy, monkeypatch):
    from fmwidgets.core.models.remote import keys

    monkeypatch.setattr(keys, "_typed", {})
    monkeypatch.delenv("FM_TYPED_KEY", raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt: "sk-fmtest-typed-0123456789")
    fm.set_api_key("FM_TYPED_KEY")
    handle = fm.load(served.model, base_url=proxy.base_url, api_key_env="FM_TYPED_KEY", as_="typed")
    fm.generate("hi", model="typed", max_new_tokens=2, stream=False)
    assert proxy.headers[-1]["authorization"] == "Bearer sk-fmtest-typed-0123456789"
    assert "FM_TYPED_KEY" not in __import__("os").environ  # memory only
    assert "sk-fmtest" not in repr(handle) + repr(fm.history())
