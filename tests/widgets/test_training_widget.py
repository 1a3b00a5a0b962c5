"""The live TrainingView on real tiny-model runs: progress, curve, table, Stop, throttling."""

from __future__ import annotations

import inspect

import pandas as pd
import plotly.graph_objects as go

import fmwidgets as fm
from fmwidgets.core.models.registry import registry
from fmwidgets.provenance.history import entries as history
from fmwidgets.render.training import metrics_table
from fmwidgets.testing import CORPUS
from fmwidgets.widgets.training import TrainingView


def frame():
    return pd.DataFrame({"text": CORPUS, "label": ["<b>pos</b>", "neg"] * (len(CORPUS) // 2)})


def test_view_follows_a_run_to_the_end(bert):
    view = TrainingView(interval=0)
    result = fm.finetune(frame(), label="label", epochs=2.0, batch_size=4, max_length=16,  # as --epochs 2 parses
                         monitor=view, as_="<i>tuned</i>")
    assert view.header.value.endswith(" evaluation rows, 2 epochs.")  # not "2.0 epochs"
    assert view.progress.max == view.progress.value == result.total_steps == 10
    assert view.progress.bar_style == "success" and view.stop_button.disabled
    assert view.status.value.startswith("finished at step 10/10")
    assert "&lt;i&gt;tuned&lt;/i&gt;" in view.header.value and "<i>" not in view.header.value
    train_logs = [p for p in result.history if p["kind"] == "train"]
    assert list(view.figure.data[0].x) == [p["step"] for p in train_logs]
    assert list(view.figure.data[1].x) == [5, 10]  # one validation point per epoch
    assert view.table.count("<tr>") == 3 and "accuracy" in view.table
    assert "&lt;b&gt;pos&lt;/b&gt;" in view.results and "<b>pos</b>" not in view.results
    assert view.results.count('class="plotly-graph-div"') == 1 and '"type":"heatmap"' in view.results
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()
    # the plain output: status (for a saved notebook), curve, table and result; no FigureWidget
    page = view.pictures()["text/html"]
    assert "finished at step 10/10" in page and page.count('class="plotly-graph-div"') == 2
    assert not any(isinstance(c, go.FigureWidget) for c in view.box.children)
    assert f".{view.plain.css_class} {{ display: none; }}" in view.box.children[-1].value
    assert f"<div class='{view.plain.css_class}'>" in page  # the status, hidden under the live widget


def test_redraws_are_throttled(bert):
    view = TrainingView(interval=60)
    fm.finetune(frame(), label="label", epochs=2, batch_size=2, max_length=16, val_split=0, monitor=view)
    # 20 steps and their logs, but only the first step, the two evaluations and the end redraw
    assert view.draws == 4
    assert len(view.figure.data[0].x) == len([p for p in view.points if p["kind"] == "train"])


class ClickStop(TrainingView):
    """Clicks its own Stop button at step 2, as the user would."""

    def on_step(self, step, total, epoch, elapsed):
        super().on_step(step, total, epoch, elapsed)
        if step == 2:
            self.stop_button.click()


def test_stop_button_ends_training_and_keeps_the_model(bert):
    view = ClickStop(interval=0)
    result = fm.finetune(frame(), label="label", epochs=5, batch_size=2, max_length=16, monitor=view)
    assert result.status == "stopped" and result.steps == 2
    assert view.progress.bar_style == "warning" and view.status.value.startswith("stopped at step 2/")
    assert result.name in registry and fm.predict("the cat sat") in ("<b>pos</b>", "neg")


def test_public_finetune_has_the_core_signature_and_records_itself(bert):
    params = inspect.signature(fm.finetune).parameters
    assert list(params)[:4] == ["df", "text", "label", "task"] and "monitor" in params
    fm.finetune(frame(), label="label", epochs=1, batch_size=8, max_length=8)
    assert history[-1].code.startswith("fm.finetune(df=<DataFrame>, label='label', epochs=1")


def test_metrics_table_escapes_and_formats():
    table = metrics_table([{"kind": "eval", "step": 3, "<x>": 0.123456}])
    assert "&lt;x&gt;" in table and "0.1235" in table and metrics_table([]) == ""


KERNEL_CODE = """
import pandas as pd
import fmwidgets as fm
from fmwidgets.testing import CORPUS, tiny_bert
fm.load(str(tiny_bert()), as_="b")
class Announce(fm.TrainingView):
    def on_step(self, step, total, epoch, elapsed):
        super().on_step(step, total, epoch, elapsed)
        if step == 1:
            print("BUTTON", self.stop_button.model_id, flush=True)
view = Announce()
df = pd.DataFrame({"text": CORPUS * 4, "label": ["a", "b"] * (len(CORPUS) * 2)})
result = fm.finetune(df, label="label", epochs=500, batch_size=2, max_length=16, monitor=view)
print("STATUS", result.status, result.steps, result.total_steps, result.name, flush=True)
"""


def test_a_stop_click_from_the_front_end_is_heard_while_the_cell_runs():
    """A real kernel: the Stop button's comm message arrives while the cell is still training.

    The message is sent as JupyterLab sends a click, once training has made its first step.
    """
    import os
    import time

    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env=dict(os.environ, HF_HUB_OFFLINE="1"))
    try:
        kc.execute(KERNEL_CODE)
        printed, deadline, clicked = "", time.time() + 240, False
        while "STATUS" not in printed and time.time() < deadline:
            try:
                msg = kc.get_iopub_msg(timeout=5)
            except Exception:  # queue.Empty: nothing printed yet
                continue
            if msg["msg_type"] == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))
            if msg["msg_type"] == "stream":
                printed += msg["content"]["text"]
            if "BUTTON" in printed and not clicked:
                button = printed.split("BUTTON ")[1].split()[0]
                content = {"comm_id": button, "data": {"method": "custom", "content": {"event": "click"}}}
                kc.shell_channel.send(kc.session.msg("comm_msg", content))
                clicked = True
        status = printed.split("STATUS ")[1].split()
        # 78 training rows in batches of 2 for 500 epochs: it stopped right after the click
        assert status[0] == "stopped" and int(status[1]) <= 5 and int(status[2]) == 500 * 39, printed
        assert status[3] == "b-ft"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_failed_run_disables_stop_and_says_so():
    view = TrainingView(interval=0)
    view.on_fail(RuntimeError("boom"))
    assert view.stop_button.disabled and view.progress.bar_style == "danger"
    assert view.status.value.startswith("failed at step 0: RuntimeError")


def test_a_dpo_run_draws_its_reward_margin_and_accuracy_beside_the_loss(gpt2):
    pairs = pd.DataFrame({"prompt": ["Where is the cat?", "Where is a dog?"] * 4,
                          "chosen": [" on the mat", " in the yard"] * 4,
                          "rejected": [" in the park", " on the roof"] * 4})
    view = TrainingView(interval=0)
    result = fm.finetune(pairs, model="gpt2", method="dpo", epochs=2, batch_size=4, max_length=16,
                         val_split=0, monitor=view)
    names = [trace.name for trace in view.figure.data]
    assert names == ["training loss", "validation loss", "reward margin", "reward accuracy"]
    train = [p for p in result.history if p["kind"] == "train"]
    assert list(view.figure.data[2].y) == [p["reward_margin"] for p in train]
    assert view.figure.data[3].yaxis == "y2" and view.figure.layout.yaxis2.overlaying == "y"
    assert "reward_margin" in view.table and "logp_margin" in view.table  # one row per evaluation
    saved = fm.plot_loss_curve(result)  # the finished run's picture has the same lines
    assert [trace.name for trace in saved.data] == names
