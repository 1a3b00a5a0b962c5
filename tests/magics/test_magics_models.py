"""The %fm grammar in a real IPython shell: dispatch, help, UsageError, %config, model subcommands."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

import fmwidgets as fm
from fmwidgets.core.models.registry import registry
from fmwidgets.provenance.history import entries as history


def test_help_lists_subcommands(ip, capsys):
    ip.run_line_magic("fm", "help")
    out = capsys.readouterr().out
    for sub in ("%fm load", "%fm list", "%fm info", "%fm use", "%fm unload"):
        assert sub in out


def test_subcommand_help_prints_options_and_runs_nothing(ip, capsys):
    assert ip.run_line_magic("fm", "load --help") is None
    out = capsys.readouterr().out
    assert "--trust-remote-code" in out and "--as NAME" in out
    assert len(registry) == 0


@pytest.mark.parametrize(
    "line, pattern",
    [
        ("load --bogus", "%fm load: unrecognized arguments: --bogus; see %fm load --help."),
        ("frobnicate", "unknown subcommand 'frobnicate'"),
        ("load 'unclosed", "check that every quote is closed"),
        ("use", "the following arguments are required: name"),
    ],
)
def test_bad_lines_raise_one_line_usage_errors(ip, line, pattern):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("fm", line)
    assert pattern in str(info.value) and "\n" not in str(info.value)


def test_an_error_fails_the_cell_and_shows_one_line(ip, capsys):
    result = ip.run_cell("%fm use nowhere")
    assert isinstance(result.error_in_exec, fm.UnknownModelNameError)
    shown = capsys.readouterr()
    text = shown.out + shown.err
    assert "UnknownModelNameError" in text and "Traceback" not in text


def test_line_only_command_refuses_a_body(ip):
    with pytest.raises(UsageError, match="takes no cell body"):
        ip.run_cell_magic("fm", "list", "something")


def test_load_list_info_use_unload(ip, tiny_paths):
    handle = ip.run_line_magic("fm", f"load {tiny_paths['gpt2']} --as g")
    assert handle is registry.get("g")
    ip.run_line_magic("fm", f"load {tiny_paths['bert']} --as b --dtype bfloat16")
    table = ip.run_line_magic("fm", "list")
    assert table["name"].tolist() == ["g", "b"]
    assert ip.run_line_magic("fm", "info g") is handle
    ip.run_line_magic("fm", "use g")
    assert registry.current == "g"
    ip.run_line_magic("fm", "unload g")
    assert registry.names() == ["b"]
    assert history[0].code == f"%fm load {tiny_paths['gpt2']} --as g"
    assert history[-1].code == "%fm unload g"


def test_config_magic_reaches_the_settings(ip, tiny_paths):
    ip.run_line_magic("config", 'FM.device = "cpu"')
    try:
        assert fm.settings().device == "cpu"
        assert ip.run_line_magic("fm", f"load {tiny_paths['gpt2']} --as g").device == "cpu"
    finally:
        ip.run_line_magic("config", 'FM.device = "auto"')


def test_default_model_setting_is_used_by_bare_load(ip, tiny_paths):
    fm.settings().default_model = str(tiny_paths["bert"])
    try:
        assert ip.run_line_magic("fm", "load").family == "encoder"
        assert registry.current == "bert"
    finally:
        fm.settings().default_model = ""
