"""Panels: several series in a ``(series id, time)`` MultiIndex, each put on its own
regular grid and stacked along one grid axis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsdiff.frames._arrays import SeriesArrays
from tsdiff.frames._grid import _freq_str, _regular_grid
from tsdiff.frames._validate import _output_dtype


def _panel_arrays(
    frame: pd.DataFrame, freq: Any, name: str, kind: str, series_name: Any
) -> SeriesArrays:
    """Stack the series of a ``(series id, time)`` panel on one grid axis."""
    index = frame.index
    if index.nlevels != 2:
        raise ValueError(
            f"The index of {name} has {index.nlevels} levels; a panel needs exactly "
            "two: (series id, time)."
        )
    ids = index.get_level_values(0)
    if ids.hasnans:
        raise ValueError(f"The series ids (first index level) of {name} contain NaN.")
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)  # (n_rows, K)
    times = index.get_level_values(1)
    groups = pd.Series(np.arange(len(frame))).groupby(ids.to_numpy(), sort=False)
    short_freq = freq  # the step of series too short to tell it themselves
    if freq is None and isinstance(times, (pd.DatetimeIndex, pd.PeriodIndex)):
        # Two time points cannot tell a day from "24 hours": such series take the
        # step of the longest series.
        longest = max(groups.indices.values(), key=len)
        short_freq = _regular_grid(times[longest], None, f"{name} (longest series)")[2]
    grids, blocks, bounds = [], [], [0]
    rows = np.empty(len(frame), dtype=np.int64)
    steps = set()
    for key, positions in groups.indices.items():
        label = f"{name} (series {key!r})"
        given = freq if len(positions) > 2 else short_freq
        grid, grid_rows, step = _regular_grid(times[positions], given, label)
        if len(positions) > 1 and step is not None:
            steps.add(step)
        block = np.full((len(grid), values.shape[1]), np.nan)  # (T_i, K)
        block[grid_rows] = values[positions]
        rows[positions] = bounds[-1] + grid_rows
        grids.append((key, grid))
        blocks.append(block)
        bounds.append(bounds[-1] + len(grid))
    if len(steps) > 1:
        raise ValueError(
            f"The series of {name} have different frequencies "
            f"({sorted(map(_freq_str, steps))}); pass `freq` or resample them alike."
        )
    grid_index = pd.MultiIndex.from_arrays(
        [
            pd.Index([key for key, _ in grids]).repeat([len(g) for _, g in grids]),
            grids[0][1].append([g for _, g in grids[1:]]),
        ],
        names=index.names,
    )
    grid_values = np.concatenate(blocks)  # (sum T_i, K)
    return SeriesArrays(
        values=grid_values,
        observed_mask=~np.isnan(grid_values),
        grid_index=grid_index,
        rows=rows,
        columns=frame.columns,
        freq=steps.pop() if steps else None,
        kind=kind,
        dtype=_output_dtype(frame),
        index=index,
        name=series_name if kind == "series" else None,
        bounds=np.asarray(bounds, dtype=np.int64),
    )
