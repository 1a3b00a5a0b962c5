"""How masked-LM predictions look: the table (a bar chart is ``fm.plot_fill_mask(result)``)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def fill_mask_bundle(result: Any) -> dict[str, str]:
    plain = pd.DataFrame(result)
    return {"text/plain": repr(plain), "text/html": plain._repr_html_()}
