"""Subcommands for embeddings: embed (the explorer), similar (nearest rows), clip (images x texts).

SOURCE / --in / IMAGES name notebook variables (a DataFrame, a list or a Series); IMAGES may
also be a file pattern such as ``photos/*.png``.
"""

from __future__ import annotations

import glob
import os

from IPython.core.error import UsageError

import fmwidgets as fm

from .parser import ENGINE_ARGS, arg, command, set_variable, variable


@command(
    "embed",
    "interactive WebGL map of a DataFrame's rows: search, colour by column, lasso selection",
    arg("source", help="notebook variable: a DataFrame, a list or a Series of texts (or images with CLIP)"),
    arg("--text", metavar="COL", help="column to embed (a one-column DataFrame needs none)"),
    arg("--color", metavar="COL", help="column that colours the points"),
    arg("--hover", nargs="+", metavar="COL", help="columns shown on hover (default: the text)"),
    arg("--method", choices=("pca", "umap", "tsne"), help="projection"),
    arg("--dims", type=int, choices=(2, 3), help="2-D or 3-D map"),
    arg(
        "--pooling",
        choices=("mean", "cls", "last", "max"),
        help="how token vectors become one (default: the model's own)",
    ),
    arg("--model", metavar="NAME", help="a loaded model (default: the current one)"),
    arg("--k", type=int, help="rows a search lights up"),
    arg("--seed", type=int, help="seed of the projection"),
    arg("--strict", action="store_true", help="refuse empty or NaN rows instead of skipping them"),
    arg(
        "--out",
        default=None,
        metavar="VAR",
        help="notebook variable that holds the selected rows (a DataFrame)",
    ),
    *ENGINE_ARGS,
    calls="EmbeddingExplorer",
    group="embeddings",
)
def embed(args, cell, shell, **given):
    source = variable(shell, args.source, "DataFrame, list or Series")
    explorer = fm.EmbeddingExplorer(
        source,
        on_select=(lambda rows: set_variable(shell, args.out, rows)) if args.out else None,
        **given,
    )
    set_variable(shell, args.out, explorer.selected)
    return explorer


@command(
    "similar",
    "the rows of a DataFrame nearest to a query, by cosine similarity",
    arg("query", help="the text to look for"),
    arg(
        "--in", dest="df", required=True, metavar="DF", help="notebook variable: a DataFrame, list or Series"
    ),
    arg("--text", metavar="COL", help="column to compare (a one-column DataFrame needs none)"),
    arg("--k", type=int, help="how many rows"),
    arg("--pooling", choices=("mean", "cls", "last", "max")),
    arg("--model", metavar="NAME", help="a loaded model (default: the current one)"),
    arg("--strict", action="store_true", help="refuse empty or NaN rows instead of skipping them"),
    arg("--out", default=None, metavar="VAR", help="also store the rows in this notebook variable"),
    calls="similar",
    group="embeddings",
)
def similar(args, cell, shell, **given):
    given["df"] = variable(shell, given["df"], "DataFrame, list or Series")
    rows = fm.similar(args.query, **given)
    set_variable(shell, args.out, rows)
    return rows


def _images(shell, source: str):
    """A notebook variable, else the image files matching a pattern or in a folder."""
    if source in (shell.user_ns if shell is not None else {}):
        return variable(shell, source)
    pattern = os.path.join(source, "*") if os.path.isdir(source) else source
    files = sorted(glob.glob(os.path.expanduser(pattern)))
    if not files:
        raise UsageError(
            f"%fm clip: '{source}' is neither a notebook variable nor a pattern that matches files; "
            "pass a list of images or paths, or a pattern such as photos/*.png."
        )
    return files


@command(
    "clip",
    "CLIP-style models: image x text similarity, zero-shot labels, joint map",
    arg("images", help="notebook variable (images or paths, list / Series / DataFrame) or a file pattern"),
    arg(
        "--labels", required=True, metavar="'A,B,C'", help="candidate labels or captions, separated by commas"
    ),
    arg("--image", metavar="COL", help="DataFrame column with the images"),
    arg(
        "--view",
        default="table",
        choices=("table", "heatmap", "map"),
        help="table (thumbnails x labels), heatmap, or map (images and texts in one projection)",
    ),
    arg("--model", metavar="NAME", help="a loaded CLIP-style model (default: the current one)"),
    arg("--strict", action="store_true", help="refuse rows without an image instead of skipping them"),
    arg("--out", default=None, metavar="VAR", help="also store the ClipResult in this notebook variable"),
    calls="clip_similarity",
    group="embeddings",
)
def clip(args, cell, shell, **given):
    result = fm.clip_similarity(_images(shell, args.images), given.pop("labels"), **given)
    set_variable(shell, args.out, result)
    if args.view == "heatmap":
        return fm.plot_clip_similarity(result)
    if args.view == "map":
        return fm.plot_clip_map(result)
    return result
