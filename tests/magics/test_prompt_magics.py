"""%fm prompt / compare / fill / probs / playground in a real IPython shell."""

import pandas as pd
import pytest
from IPython.core.error import UsageError

from fmwidgets.core.prompting.compare import Comparison
from fmwidgets.core.prompting.generate import Generation, generate_text
from fmwidgets.core.prompting.token_probs import TokenProbs
from fmwidgets.errors import DataError, InterpolationError, WrongFamilyError
from fmwidgets.provenance.history import entries as history
from fmwidgets.widgets.playground import Playground


def test_cell_body_is_the_prompt_with_notebook_variables(gpt2, ip):
    ip.user_ns.update(animal="cat", place={"where": "mat"})
    gen = ip.run_cell_magic("fm", "prompt --max-new-tokens 5 --greedy --out g", "the {animal} sat on the {place[where]}")
    assert history[-1].code.startswith("%%fm prompt --max-new-tokens 5 --greedy --out g\nthe {animal}")
    assert isinstance(gen, Generation) and ip.user_ns["g"] is gen
    assert gen.prompt == "the cat sat on the mat"
    assert gen.text == generate_text("the cat sat on the mat", max_new_tokens=5, greedy=True).text


def test_a_run_cell_prompt_is_the_body_as_written(gpt2, ip):
    ip.run_cell("%%fm prompt --max-new-tokens 2 --greedy --out g\nthe cat\nsat")  # IPython adds a newline
    assert ip.user_ns["g"].prompt == "the cat\nsat"
    ip.run_cell("%%fm prompt --max-new-tokens 2 --greedy --out g\nthe cat\n\n")
    assert ip.user_ns["g"].prompt == "the cat\n"


def test_placeholders_evaluate_nothing(gpt2, ip):
    ip.user_ns["secret"] = "s"
    with pytest.raises(InterpolationError, match="'nothing_here'"):
        ip.run_cell_magic("fm", "prompt", "tell me about {nothing_here}")
    with pytest.raises(InterpolationError, match="private attribute"):
        ip.run_cell_magic("fm", "prompt", "{secret.__class__.__mro__}")
    with pytest.raises(InterpolationError):
        ip.run_cell_magic("fm", "prompt", "{__import__('os').system('echo hacked')}")
    assert ip.run_cell_magic("fm", "prompt --max-new-tokens 2 --greedy", "json {{\"a\": 1}}").prompt == 'json {"a": 1}'


def test_flags_and_passthrough_keywords(gpt2, ip):
    gen = ip.run_cell_magic("fm", "prompt --max-new-tokens 6 --temperature 1.1 --top-k 20 --seed 4 --n 2 "
                                  "--repetition-penalty 1.3 --no-repeat-ngram-size 2", "the dog")
    same = generate_text("the dog", max_new_tokens=6, temperature=1.1, top_k=20, seed=4, n=2,
                    repetition_penalty=1.3, no_repeat_ngram_size=2)
    assert gen.texts == same.texts and len(gen.texts) == 2
    assert gen.record.params["no_repeat_ngram_size"] == 2


def test_usage_errors_and_wrong_family(gpt2, bert, ip):
    assert ip.run_cell_magic("fm", "prompt --max-new-tokens 2 --greedy --model gpt2", "the cat").prompt == "the cat"
    with pytest.raises(UsageError, match="needs the prompt"):
        ip.run_line_magic("fm", "prompt --greedy")
    with pytest.raises(UsageError, match="invalid int"):
        ip.run_cell_magic("fm", "prompt --max-new-tokens many", "hi")
    with pytest.raises(WrongFamilyError, match="cannot generate text.*; it can "):
        ip.run_cell_magic("fm", "prompt --model bert", "hi")
    with pytest.raises(UsageError, match="unrecognized argument"):
        ip.run_cell_magic("fm", "prompt stray words", "hi")


def test_prompt_over_a_dataframe(gpt2, ip):
    ip.user_ns["reviews"] = pd.DataFrame({"item": ["the soup", "the train"]})
    out = ip.run_line_magic("fm", 'prompt --df reviews --template "{item} was" --max-new-tokens 3 --greedy --out res')
    assert ip.user_ns["res"] is out and out["output"].tolist() == [
        generate_text("the soup was", max_new_tokens=3, greedy=True).text,
        generate_text("the train was", max_new_tokens=3, greedy=True).text]
    with pytest.raises(DataError, match="no column 'price'; its columns are 'item'"):
        ip.run_line_magic("fm", 'prompt --df reviews --template "{price}"')
    with pytest.raises(UsageError, match="no DataFrame named 'nope'"):
        ip.run_line_magic("fm", 'prompt --df nope --template "{item}"')


def test_compare_models_and_variants(gpt2, chat_gpt2, ip):
    res = ip.run_cell_magic("fm", "compare gpt2 chat --max-new-tokens 3 --greedy --no-chat", "the cat")
    assert isinstance(res, Comparison) and res.models == ["gpt2", "chat"]
    res = ip.run_cell_magic("fm", "compare gpt2 --variants --max-new-tokens 3 --greedy", "the cat\n\nthe dog\n")
    assert res.prompts == ["the cat", "the dog"]


def test_fill_shows_a_chart_and_returns_the_table(bert, ip):
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        res = ip.run_line_magic("fm", "fill the cat sat on the [MASK] --top-k 3 --out preds")
    assert len(res) == 3 and ip.user_ns["preds"] is res
    assert any('class="plotly-graph-div"' in o.data.get("text/html", "") for o in captured.outputs)


def test_probs_of_text_and_of_a_generation(gpt2, ip):
    res = ip.run_line_magic("fm", 'probs "the cat sat" --top-k 2')
    assert isinstance(res, TokenProbs) and len(res.alternatives[0]) == 2
    ip.user_ns["g"] = generate_text("the cat", max_new_tokens=3, greedy=True)
    res = ip.run_line_magic("fm", "probs --of g")
    assert res.generated[-3:] == [True, True, True]


def test_playground_magic(gpt2, ip):
    pg = ip.run_line_magic("fm", "playground gpt2")
    assert isinstance(pg, Playground) and pg.picker.options == ("gpt2",)


def test_help_lists_the_prompt_commands(ip, capsys):
    ip.run_line_magic("fm", "help")
    out = capsys.readouterr().out
    assert "prompts:" in out and "%fm prompt" in out and "%%fm compare" in out and "%fm playground" in out
