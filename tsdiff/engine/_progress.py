"""The progress bar of training and sampling: tqdm's, as a widget in a notebook
with ipywidgets and as text elsewhere.

``tqdm.auto`` falls back to the text bar in a notebook without ipywidgets, but
warns at import that it does; the warning is about tqdm's choice, not about
anything the user did, so it is silenced here.
"""

from __future__ import annotations

import warnings

from tqdm import TqdmWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", TqdmWarning)
    from tqdm.auto import tqdm

__all__ = ["tqdm"]
