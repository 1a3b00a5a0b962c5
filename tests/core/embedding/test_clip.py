"""CLIP-style models on a tiny local CLIP checkpoint with generated images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.notices import FMWarning
from fmwidgets.testing import color_images


@pytest.fixture
def image_files(tmp_path):
    paths = []
    for i, img in enumerate(color_images(3)):
        path = tmp_path / f"colour{i}.png"
        img.save(path)
        paths.append(str(path))
    return paths


def test_embed_images_and_texts_in_one_space(clip, image_files):
    images = color_images(3)
    from_pil = fm.embed(images)
    from_paths = fm.embed(image_files)
    texts = fm.embed(["a red square", "a green square"])
    dim = clip.model.config.projection_dim
    assert from_pil.shape == (3, dim) and texts.shape == (2, dim) and from_pil.dtype == np.float32
    np.testing.assert_allclose(from_paths, from_pil, atol=1e-5)  # PNG is lossless
    np.testing.assert_allclose(np.linalg.norm(from_pil, axis=1), 1, atol=1e-5)
    # the same numbers the model's own image tower gives
    import torch

    pixels = clip.processor(images=images, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = clip.model.get_image_features(pixel_values=pixels)
    own = torch.nn.functional.normalize(getattr(out, "pooler_output", out), dim=1).numpy()
    np.testing.assert_allclose(from_pil, own, atol=1e-5)


def test_dataframe_column_of_images_with_missing_rows(clip, image_files):
    df = pd.DataFrame({"img": [image_files[0], None, image_files[2]], "name": list("abc")})
    with pytest.warns(FMWarning, match="Skipped 1 of 3"):
        vectors = fm.embed(df, text="img")
    assert vectors.shape[0] == 2
    with pytest.raises(fm.DataError, match="1 of 3"):
        fm.embed(df, text="img", strict=True)


def test_clip_similarity_matches_the_models_own_logits(clip):
    import torch

    images = color_images(4)
    labels = ["red", "green", "blue", "yellow"]
    result = fm.clip_similarity(images, ", ".join(labels))
    assert result.texts == labels and result.similarity.shape == (4, 4)
    np.testing.assert_allclose(result.probs.sum(1), 1, atol=1e-5)
    inputs = clip.processor(text=labels, images=images, return_tensors="pt", padding=True)
    with torch.no_grad():
        expected = clip.model(**inputs).logits_per_image.softmax(dim=1).numpy()
    np.testing.assert_allclose(result.probs, expected, atol=1e-4)
    assert list(result.labels.columns) == ["image", "label", "probability"]
    assert result.table().shape == (4, 4)
    assert result.record.kind == "clip_similarity" and result.record.model_name == "clip"


def test_clip_result_html_is_escaped_and_carries_its_record(clip):
    result = fm.clip_similarity(color_images(2), ["<script>alert(1)</script>", "a & b"])
    data, meta = result._repr_mimebundle_()
    assert "<script>" not in data["text/html"] and "&lt;script&gt;" in data["text/html"]
    assert data["text/html"].count("data:image/png;base64,") == 2
    assert meta["fmwidgets"]["kind"] == "clip_similarity"


def test_similar_across_modalities(clip, image_files):
    rows = fm.similar("a red square", pd.DataFrame({"img": image_files}), text="img", k=2)
    assert len(rows) == 2 and rows["score"].is_monotonic_decreasing


def test_bad_images_name_their_row(clip, tmp_path, image_files):
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    df = pd.DataFrame({"img": [image_files[0], str(broken)]}, index=["ok", "bad-row"])
    with pytest.raises(fm.DataError, match="row 'bad-row' cannot be opened"):
        fm.embed(df, text="img")
    with pytest.raises(fm.DataError, match="row 1 does not exist"):
        fm.clip_similarity([image_files[0], str(tmp_path / "missing.png")], ["red"])
    with pytest.raises(fm.DataError, match="not images"):
        fm.clip_similarity(["just text"], ["red"])


def test_clip_needs_a_clip_model(bert):
    with pytest.raises(fm.WrongFamilyError, match="CLIP-style"):
        fm.clip_similarity(color_images(1), ["red"])
