"""fm.project: PCA, UMAP and t-SNE to 2 or 3 dimensions, seeds, and bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import fmwidgets as fm


def _clusters(n_per: int = 15, width: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated blobs, so every method must keep them apart."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.1, (n_per, width)) + 3
    b = rng.normal(0, 0.1, (n_per, width)) - 3
    return np.vstack([a, b]).astype(np.float32), np.array([0] * n_per + [1] * n_per)


def _separated(points: np.ndarray, labels: np.ndarray) -> bool:
    """Every point lies nearer to the centre of its own blob than to the other's."""
    centres = np.stack([points[labels == 0].mean(0), points[labels == 1].mean(0)])
    nearest = np.linalg.norm(points[:, None, :] - centres[None], axis=2).argmin(1)
    return bool((nearest == labels).all())


@pytest.mark.parametrize("dims", [2, 3])
def test_pca(dims):
    X, labels = _clusters()
    Y = fm.project(X, "pca", dims=dims)
    assert Y.shape == (len(X), dims) and Y.dtype == np.float32
    assert _separated(Y, labels)
    # PCA's first axis carries most variance: it is the blob axis
    assert Y[:, 0].var() > Y[:, 1].var()


def test_tsne_2d_and_3d_are_repeatable_with_a_seed():
    X, labels = _clusters(10)
    Y = fm.project(X, "tsne", dims=2, seed=1, max_iter=500)
    assert Y.shape == (20, 2) and Y.dtype == np.float32 and _separated(Y, labels)
    np.testing.assert_allclose(fm.project(X, "tsne", dims=2, seed=1, max_iter=500), Y)
    assert fm.project(X, "tsne", dims=3, seed=1, max_iter=500).shape == (20, 3)


@pytest.mark.slow
def test_umap_2d_and_3d():
    X, labels = _clusters(15)
    Y = fm.project(X, "umap", dims=2, seed=0, n_epochs=50)
    assert Y.shape == (30, 2) and Y.dtype == np.float32 and _separated(Y, labels)
    assert fm.project(X[:4], "umap", dims=3, seed=0, n_epochs=20).shape == (4, 3)


def test_wide_inputs_go_through_pca_to_50_dimensions_first():
    from sklearn.decomposition import PCA

    X, labels = _clusters(30, width=120)
    Y = fm.project(X, "tsne", seed=0, max_iter=500)
    reduced = PCA(n_components=50, random_state=0).fit_transform(X).astype(np.float32)
    np.testing.assert_allclose(Y, fm.project(reduced, "tsne", seed=0, max_iter=500), atol=1e-4)
    assert Y.shape == (60, 2) and _separated(Y, labels)


def test_missing_umap_is_a_clear_install_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)  # what Python does when umap-learn is absent
    with pytest.raises(fm.MissingDependencyError, match="pip install umap-learn"):
        fm.project(_clusters()[0], "umap")


def test_bad_inputs():
    X, _ = _clusters(2)
    with pytest.raises(fm.DataError, match="Cannot project 2 points onto 3 dimensions"):
        fm.project(X[:2], dims=3)
    with pytest.raises(fm.BadArgumentError, match="dims must be 2 or 3"):
        fm.project(X, dims=4)
    with pytest.raises(fm.BadArgumentError, match="'mds' is not a projection"):
        fm.project(X, "mds")
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(fm.DataError, match="NaN"):
        fm.project(bad)
    with pytest.raises(fm.DataError, match="shape"):
        fm.project(np.zeros(5))
    with pytest.raises(fm.DataError, match="at least 3 points"):
        fm.project(X[:2], "tsne")
