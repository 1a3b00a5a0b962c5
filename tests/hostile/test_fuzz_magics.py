"""Every registered `%fm` subcommand fed random flags and values (seeded, bounded).

Each call must either succeed or raise an FMError / UsageError whose message is one line; any
other exception is a bug.  A call that fails must leave the loaded models as they were.
Subcommands added later are picked up from the parser's COMMANDS.
"""

from __future__ import annotations

import argparse
import random

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

from fmwidgets.core.models.registry import registry
from fmwidgets.errors import FMError
from fmwidgets.magics.magics import load_commands
from fmwidgets.magics.parser import COMMANDS
from fmwidgets.testing import CORPUS

CALLS_PER_COMMAND = 6
# Values a hostile or careless user types; notebook variable names among them.
VALUES = ["", "0", "-1", "1", "2", "0.5", "nan", "inf", "-inf", "1e20", "x" * 300, "df", "s", "nan_value",
          "gpt2", "bert", "text", "label", "'", '"', "<b>x</b>", "{x}", "a b", "\x00", "../../etc",
          "/proc/x", "[1, 2]", "None", "true", "é", "--"]
UNKNOWN_FLAGS = ["--max-new-token", "--num-beams", "--zzz", "--top-p", "--repetition-penalty", "--do-sample"]
BODIES = [None, "hello {text}", "Say {nan_value}", "", "<mask> [MASK]", "a\nb\n", "{os.environ}"]
# epochs/lengths stay small so that a call that succeeds trains or generates for a moment only
SMALL = {"--epochs": ["1", "0", "-1", "nan", "inf", "1e20"], "--max-new-tokens": ["1", "2", "0", "-1", "1e20"],
         "--max-length": ["8", "0", "-3"], "--n": ["1", "2", "0", "-1"], "--num-beams": ["1", "2", "0"],
         "--k": ["1", "3", "0", "-1"], "--batch-size": ["1", "4", "0", "-2"]}


def random_line(rng: random.Random, name: str) -> list[str]:
    cmd = COMMANDS[name]
    argv = [name]
    for action in cmd.parser._actions:
        if isinstance(action, argparse._HelpAction) or rng.random() < 0.5:
            continue
        if not action.option_strings:
            count = 1 if action.nargs in (None, "?") else rng.randint(0, 2)
            argv += [rng.choice(VALUES[:-1]) for _ in range(count)]
            continue
        flag = rng.choice(action.option_strings)
        argv.append(flag)
        if action.nargs != 0:
            pool = SMALL.get(flag, action.choices or VALUES)
            argv.append(str(rng.choice(list(pool))))
    if cmd.passthrough and rng.random() < 0.5:
        argv += [rng.choice(UNKNOWN_FLAGS), rng.choice(["2", "1.5", "x", "-1"])]
    if "--epochs" in [a.option_strings[0] for a in cmd.parser._actions if a.option_strings] and "--epochs" not in argv:
        argv += ["--epochs", "1", "--max-length", "8"]
    return argv


def state():
    return sorted((n, id(registry.get(n).model)) for n in registry.names())


@pytest.fixture
def shell(ip, gpt2, bert, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ip.user_ns.update(df=pd.DataFrame({"text": CORPUS[:8], "label": [0, 1] * 4}), s=pd.Series(CORPUS[:4]),
                      nan_value=np.nan)
    return ip


load_commands()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_random_flags_give_one_line_or_success(shell, name):
    import shlex

    rng = random.Random(f"fuzz-{name}")
    for _ in range(CALLS_PER_COMMAND):
        argv = random_line(rng, name)
        line = " ".join(shlex.quote(a) for a in argv)
        body = rng.choice(BODIES) if COMMANDS[name].cell != "no" else None
        if COMMANDS[name].cell == "yes" and not body:
            body = "hello there"
        registry.current = "gpt2" if rng.random() < 0.5 else "bert"
        before, saved = state(), dict(registry._models)
        try:
            result = shell.run_cell_magic("fm", line, body) if body is not None else shell.run_line_magic("fm", line)
            if hasattr(result, "wait"):  # a background fine-tune: its end must be clean too
                result.wait()
        except (FMError, UsageError) as exc:
            message = str(exc)
            assert message and "\n" not in message.strip(), f"%fm {line}: {message!r}"
            assert state() == before, f"%fm {line} failed but changed the loaded models"
        except Exception as exc:  # noqa: BLE001 - the point of the test
            pytest.fail(f"%fm {line} (body {body!r}) raised {type(exc).__name__}: {exc}"[:600])
        finally:  # successful load/unload/name/finetune calls change the registry: put it back
            registry._models.clear()
            registry._models.update(saved)
