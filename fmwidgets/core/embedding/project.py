"""Vectors down to 2 or 3 dimensions for a map: PCA, UMAP or t-SNE (``fm.project``).

PCA is exact and fast and comes with scikit-learn; UMAP (umap-learn, an optional extra) and
t-SNE (scikit-learn) keep neighbourhoods better but cost more, so on wide inputs they first run
PCA down to 50 dimensions, the usual practice that keeps the structure and cuts the time.
Every method takes ``seed`` so that a re-run notebook draws the same map.
"""

from __future__ import annotations

import warnings
from typing import Any

from ...errors import BadArgumentError, DataError, MissingDependencyError
from ...provenance.history import recorded

METHODS = ("pca", "umap", "tsne")
PRE_PCA_DIMS = 50  # UMAP / t-SNE inputs wider than this go through PCA first


def as_matrix(X: Any):
    """A 2-D float32 array with at least one row and no NaN / inf, or a DataError."""
    import numpy as np

    try:
        matrix = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise DataError(
            "The vectors are not a numeric matrix; pass the array fm.embed returned (rows x dimensions)."
        ) from exc
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise DataError(
            f"The vectors have shape {matrix.shape}, not (rows, dimensions) with at least one row; "
            "pass the array fm.embed returned."
        )
    if not np.isfinite(matrix).all():
        raise DataError("The vectors contain NaN or infinite values; drop those rows before projecting.")
    return matrix


@recorded
def project(X: Any, method: str = "pca", dims: int = 2, seed: int | None = 0, **options: Any):
    """``X`` (n points x d) mapped to ``dims`` (2 or 3) columns, float32.

    ``method`` is pca, umap or tsne; ``options`` pass through to the method (n_neighbors,
    perplexity, ...).  ``seed`` fixes the random steps (None: a different map each run).
    """
    import numpy as np

    if method not in METHODS:
        raise BadArgumentError(
            f"'{method}' is not a projection fmwidgets knows; use one of {', '.join(METHODS)}."
        )
    if dims not in (2, 3):
        raise BadArgumentError(f"dims must be 2 or 3, not {dims}.")
    matrix = as_matrix(X)
    n, width = matrix.shape
    if dims > n:
        raise DataError(
            f"Cannot project {n} point{'s' if n != 1 else ''} onto {dims} dimensions; pass at least "
            f"{dims} points or ask for fewer dimensions."
        )
    if width < dims:
        pad = np.zeros((n, dims - width), dtype=np.float32)
        return np.hstack([matrix, pad])
    if method == "pca":
        return _pca(matrix, dims, seed)
    if width > PRE_PCA_DIMS and n > PRE_PCA_DIMS:
        matrix = _pca(matrix, PRE_PCA_DIMS, seed)
    if method == "umap":
        return _umap(matrix, dims, seed, options)
    return _tsne(matrix, dims, seed, options)


def _pca(matrix, dims: int, seed: int | None):
    import numpy as np
    from sklearn.decomposition import PCA

    dims_possible = min(dims, *matrix.shape)
    out = PCA(n_components=dims_possible, random_state=seed).fit_transform(matrix)
    if dims_possible < dims:  # fewer points than dimensions: the rest of the map is flat
        out = np.hstack([out, np.zeros((len(out), dims - dims_possible))])
    return out.astype(np.float32)


def _umap(matrix, dims: int, seed: int | None, options: dict):
    import numpy as np

    try:
        import umap
    except ImportError as exc:
        raise MissingDependencyError(
            "UMAP needs the umap-learn package; install it with pip install umap-learn (or "
            "pip install fmwidgets[umap]), or use method='pca' or 'tsne'."
        ) from exc
    n = len(matrix)
    if n < 3:
        raise DataError(f"UMAP needs at least 3 points, and got {n}; pass more points or use method='pca'.")
    params: dict[str, Any] = {
        "n_neighbors": max(2, min(15, n - 1)),
        "n_components": dims,
        "random_state": seed,
    }
    if n <= dims + 2:  # spectral init needs more points than dimensions
        params["init"] = "random"
    params.update(options)
    with warnings.catch_warnings():  # a seed makes umap run on one thread, which it warns about
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        return np.asarray(umap.UMAP(**params).fit_transform(matrix), dtype=np.float32)


def _tsne(matrix, dims: int, seed: int | None, options: dict):
    import numpy as np
    from sklearn.manifold import TSNE

    n = len(matrix)
    if n < 3:
        raise DataError(f"t-SNE needs at least 3 points, and got {n}; pass more points or use method='pca'.")
    params = {
        "n_components": dims,
        "perplexity": min(30.0, (n - 1) / 3),
        "init": "pca",
        "random_state": seed,
        # exact gradients are faster than Barnes-Hut's tree on a few hundred points
        "method": "exact" if n <= 500 else "barnes_hut",
    }
    params.update(options)
    return np.asarray(TSNE(**params).fit_transform(matrix), dtype=np.float32)
