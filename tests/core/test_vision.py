"""Vision models: classification equal to the model's softmax, image attention equal to output_attentions."""

import numpy as np
import pandas as pd
import pytest
import torch

import fmwidgets as fm
from fmwidgets.errors import DataError, WrongFamilyError
from fmwidgets.testing import color_images


def test_vit_loads_as_a_vision_model(vit):
    assert vit.family == "vision" and vit.head == "image-classification"
    assert vit.features == ["classify_images", "attention"]
    with pytest.raises(WrongFamilyError, match="is a vision model and cannot transcribe speech .*; it can classify images"):
        fm.transcribe(np.ones(10), sampling_rate=16000, model="vit")


def test_classification_equals_the_models_softmax(vit):
    images = color_images(3)
    out = fm.classify_images(images, top_k=2)
    assert list(out.columns) == ["image", "label", "probability"] and len(out) == 6
    pixels = vit.processor(images=images, return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        probs = torch.softmax(vit.model(pixel_values=pixels).logits, -1)
    top = probs.topk(2, -1)
    assert np.allclose(out["probability"].to_numpy(), top.values.reshape(-1).numpy(), atol=1e-6)
    assert out["label"].tolist() == [vit.config.id2label[i] for i in top.indices.reshape(-1).tolist()]
    assert out.record.kind == "classify_images"


def test_paths_and_dataframe_columns(vit, tmp_path):
    paths = []
    for i, img in enumerate(color_images(2)):
        paths.append(str(tmp_path / f"{i}.png"))
        img.save(paths[-1])
    df = pd.DataFrame({"pic": paths}, index=["a", "b"])
    out = fm.classify_images(df, image="pic", top_k=1)
    assert out["image"].tolist() == ["a", "b"]
    assert out["label"].tolist() == fm.classify_images(color_images(2), top_k=1)["label"].tolist()


def test_not_an_image_is_one_sentence(vit, tmp_path):
    bad = tmp_path / "x.png"
    bad.write_text("not a png")
    with pytest.raises(DataError, match="cannot be opened"):
        fm.classify_images([str(bad)])
    with pytest.raises(DataError, match="not an image"):
        fm.classify_images([42])
    assert fm.models()["name"].tolist() == ["vit"]


def test_display_escapes_labels_and_shows_thumbnails(vit):
    out = fm.classify_images(color_images(1), top_k=1)
    vit.config.id2label[int(vit.config.label2id[out["label"][0]])] = "<b>x</b>"
    out = fm.classify_images(color_images(1), top_k=1)
    data, meta = out._repr_mimebundle_()
    assert "&lt;b&gt;x&lt;/b&gt;" in data["text/html"] and "<b>x</b>" not in data["text/html"]
    assert "data:image/png;base64," in data["text/html"] and meta["fmwidgets"]["kind"] == "classify_images"


@pytest.mark.parametrize("which", ["vit", "clip"])
def test_image_attention_equals_output_attentions(which, request):
    handle = request.getfixturevalue(which)
    image = color_images(1)[0]
    result = fm.attention(image, model=which)
    processor = getattr(handle.processor, "image_processor", handle.processor)
    pixels = processor(images=image, return_tensors="pt")["pixel_values"]
    net = handle.model.vision_model if which == "clip" else handle.model
    with torch.inference_mode():
        expected = torch.stack([a[0] for a in net(pixel_values=pixels, output_attentions=True).attentions])
    assert result.weights.shape == (2, 2, 17, 17) and np.allclose(result.weights, expected.numpy(), atol=1e-6)
    assert result.tokens[0] == "[CLS]" and result.grid == (4, 4)
    fig = fm.plot_image_attention(result, layer=1, head=0)
    assert np.allclose(np.asarray(fig.data[1].z), result.weights[1, 0, 0, 1:].reshape(4, 4))
    rolled = fm.plot_image_attention(result, layer=1, rollout=True)
    assert np.isclose(np.asarray(rolled.data[1].z).sum(), 1 - _rollout_cls_self(result), atol=1e-5)


def _rollout_cls_self(result):
    n = len(result.tokens)
    joint = np.eye(n)
    for block in result.layers:
        a = block.mean(0) + np.eye(n)
        joint = (a / a.sum(-1, keepdims=True)) @ joint
    return joint[0, 0]
