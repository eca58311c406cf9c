"""DiffusionImputer: a scikit-learn transformer that fills gaps with a conditional
diffusion model and reports the uncertainty of every filled cell."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import OneToOneFeatureMixin, TransformerMixin

from tsdiff.data import WindowSource, pad_left, stitch_windows
from tsdiff.engine import MaskPolicy
from tsdiff.estimation.base import DiffusionEstimator
from tsdiff.estimation.calibration import setting_key
from tsdiff.estimation.denoising import DenoiseMixin
from tsdiff.estimation.docs import share_docs
from tsdiff.estimation.gap_calibration import (
    gap_calibration,
    hold_out_windows,
    input_factors,
    series_of,
    without_rows,
)
from tsdiff.estimation.generation import GenerateMixin
from tsdiff.estimation.imputing import ImputeMixin, pattern_windows, window_plan
from tsdiff.estimation.quantiles import band_levels
from tsdiff.estimation.stretching import stretch_levels, widen
from tsdiff.estimation.upsampling import UpsampleMixin, window_means
from tsdiff.estimation.validation import (
    POSITIVE_INT,
    Interval,
    Options,
    check_positive_int,
    set_feature_info,
    store_params,
)
from tsdiff.frames import SeriesArrays, from_long, long_columns, to_arrays

__all__ = ["DiffusionImputer"]


class DiffusionImputer(
    ImputeMixin,
    UpsampleMixin,
    DenoiseMixin,
    GenerateMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
    DiffusionEstimator,
):
    """Probabilistic imputation of multivariate time series with a conditional diffusion
    model (CSDI, Tashiro et al. 2021).

    Rows are time steps and columns are variables; NaN marks a missing value. ``fit``
    trains a denoising network on sliding windows, hiding observed values at random and
    learning to recover them from the rest. ``transform`` draws ``num_samples``
    imputations for every window and fills each gap with the median; observed values are
    returned unchanged, bit for bit.

    Series longer than ``window_length`` are covered by overlapping windows (stride
    ``window_stride``); each time step takes its whole sample set from the window whose
    centre is nearest to it, so quantiles come from genuine joint samples. Windows
    without a missing cell they own are not sampled at all.

    Parameters
    ----------
    window_length : int, default=48
        Time steps the network sees at once (L).
    window_stride : int or None, default=None
        Stride of the windows at transform time; None means ``window_length // 2``.
    calibration_share : float, "input" or None, default="input"
        Stretch the samples of every imputation about their median so that the
        central ``calibration_coverage`` interval covers values hidden in the
        shape of real gaps at that rate, by a factor per variable and central
        level (conformal prediction; :mod:`tsdiff.estimation.gap_calibration`).
        Observed values and the median imputation are unchanged.

        * A float in (0, 0.5]: that share of the non-overlapping windows of
          ``window_length`` steps of the training series (drawn at random by
          ``random_state``) is left out of training and of the scaling
          statistics; at the end of fit, observed values of every held-out
          window are hidden in the shape of real gaps (those of
          ``mask_patterns``, else of the training data) and imputed from the
          rest. It costs the held-out share of the training data and one
          imputation of the held-out windows at fit (again for each new
          sampler setting).
        * ``"input"``: every imputation first hides observed values of its own
          input, in the shape of the input's gaps, in the non-overlapping
          windows tiling it (at most 512, drawn at random), and imputes them.
          Nothing is held out of training and the factors follow the data
          being imputed; each call costs about one more imputation of the
          input. An input shorter than ``window_length`` is not calibrated (a
          warning says so). The default: on the validation data of PM2.5 and
          PhysioNet it moved 90 % coverage from 0.71 to 0.81 and from 0.88 to
          0.91, CRPS within 0.3 % (README, "Calibrated imputations").
        * None: no calibration.
    calibration_coverage : float, default=0.9
        The central interval, in (0, 1), that calibration sets; the other
        levels move with it. May be changed after fit.
    <common parameters>

    Attributes
    ----------
    network_ : torch.nn.Module
        The trained denoiser.
    scaler_ : Scaler
        Per-variable centre and scale.
    <training attributes>
    <feature attributes>
    device_ : torch.device
        Device in use.
    calibration_ : GapCalibration or None
        The held-out windows (``calibration_.truth`` of shape (n_windows,
        window_length, n_variables): the hidden values, NaN elsewhere) and, in
        ``calibration_.factors``, the factors per central level and variable,
        shape (n_levels, 1, n_variables), for each setting used so far; None
        without a held-out share (also with ``calibration_share="input"``, whose
        factors belong to each call).

    See Also
    --------
    DiffusionForecaster : The same model with the future masked.

    Notes
    -----
    tsdiff's published accuracy (``benchmarks/README.md``) on PhysioNet 2012 used
    ``n_epochs=200, steps_per_epoch=None, batch_size=32, ema_decay=0.999`` (CSDI's 200
    passes) before ``interpolated_input`` and ``time_kernel`` existed; on PM2.5,
    ``batch_size=32, n_epochs=400, target_strategy="mix", time_kernel=1`` (with the
    defaults and "mix", one seed: CRPS 0.104). Where gaps have structure, add
    ``target_strategy="mix"`` and pass ``mask_patterns`` from data whose gaps look like
    the ones to fill. The imputer sees each window's level (``center_windows=False``),
    which matters where the spread of the data grows with it (air pollution, counts);
    ``center_windows=True`` models values relative to the given ones.

    References
    ----------
    Tashiro, Song, Song, Ermon. CSDI: Conditional Score-based Diffusion Models for
    Probabilistic Time Series Imputation. NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff import DiffusionImputer
    >>> X = np.sin(np.arange(40.0))[:, None] * [1.0, 2.0]
    >>> X[5, 0] = np.nan
    >>> imp = DiffusionImputer(window_length=8, n_layers=1, n_channels=8, n_heads=1,
    ...                        n_epochs=1, num_samples=4, n_diffusion_steps=5,
    ...                        device="cpu", random_state=0).fit(X)
    >>> bool(np.isnan(imp.transform(X)).any())
    False
    """

    _parameter_constraints = {
        **DiffusionEstimator._parameter_constraints,
        "window_length": [POSITIVE_INT],
        "window_stride": [None, POSITIVE_INT],
        "calibration_share": [
            None,
            Interval(float, 0, 0.5, "right"),
            Options(("input",)),
        ],
        "calibration_coverage": [Interval(float, 0, 1, "neither")],
    }

    def __init__(
        self,
        window_length: int = 48,
        window_stride: int | None = None,
        *,
        calibration_share: float | str | None = "input",
        calibration_coverage: float = 0.9,
        n_layers: int = 4,
        n_channels: int = 64,
        n_heads: int = 8,
        time_embedding_dim: int = 128,
        feature_embedding_dim: int = 16,
        diffusion_embedding_dim: int = 128,
        patch_length: int = 1,
        latent_dim: int | None = None,
        patch_width: int = 1,
        time_kernel: int = 7,
        process: str = "ddpm",
        n_diffusion_steps: int = 50,
        schedule: str = "quad",
        beta_start: float = 1e-4,
        beta_end: float = 0.5,
        parameterization: str = "v",
        loss: str = "epsilon",
        center_windows: bool = False,
        scale_windows: bool = False,
        lags: str | tuple | None = None,
        interpolated_input: bool = True,
        target_strategy: str = "random",
        unconditional_share: float = 0.0,
        scaler: str = "standard",
        n_epochs: int = 100,
        steps_per_epoch: int | None = 50,
        batch_size: int | str = "auto",
        learning_rate: float = 1e-3,
        lr_schedule: str = "cosine",
        weight_decay: float = 1e-6,
        validation_fraction: float = 0.0,
        early_stopping_patience: int | None = None,
        ema_decay: float | None = None,
        max_grad_norm: float | None = 1.0,
        mixed_precision: bool = True,
        compile: bool | str = "auto",
        checkpoint_path: str | None = None,
        max_fit_time: float | None = None,
        num_samples: int = 100,
        sampler: str | None = None,
        sampling_steps: int | None = None,
        eta: float = 0.0,
        quantile_levels: tuple = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95),
        quantile_method: str = "linear",
        freq: str | None = None,
        device: str = "auto",
        predict_batch_size: int | str = "auto",
        random_state: Any = None,
        verbose: bool = False,
    ):
        store_params(self, locals())

    __doc__ = share_docs(__doc__)

    def _window(self) -> tuple[int, str]:
        return self.window_length, "window_length"

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.window_stride is not None and self.window_stride > self.window_length:
            raise ValueError(
                "The 'window_stride' parameter of DiffusionImputer must be at most "
                f"window_length={self.window_length}. Got {self.window_stride} instead."
            )

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        mask_patterns: Any = None,
        id_col: Any = None,
        time_col: Any = None,
    ) -> DiffusionImputer:
        """Train the denoiser on sliding windows of ``X``.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Training series; NaN marks a missing value. A datetime index with gaps is
            completed with missing rows. A DataFrame indexed by a two-level
            ``MultiIndex`` ``(series id, time)`` is a panel of series with the same
            variables (for example one per patient): windows never cross from one
            series into another.
        y : None
            Ignored; present for scikit-learn compatibility.
        mask_patterns : array-like of bool, shape (n_rows, n_variables), default=None
            Missingness patterns (True = observed) that the ``"historical"`` and
            ``"mix"`` target strategies copy onto training windows: pass the observed
            mask of data whose gaps look like the ones to be filled (a DataFrame with
            a ``(series id, time)`` MultiIndex is cut into windows per series). None
            borrows the patterns of ``X`` itself.
        id_col, time_col : hashable, optional
            Columns of a long table ``X`` (one row per series and time point)
            holding the series id and the time; every other column is a variable.
            Later calls take a long table in the same layout and answer in its row
            order: ``transform`` returns a copy of the table with its gaps filled,
            the quantile and interval frames and the samples follow its rows.

        Returns
        -------
        self : DiffusionImputer
            The fitted imputer.

        Examples
        --------
        >>> from tsdiff import DiffusionImputer
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> X = make_seasonal_ar(n_steps=32, n_series=2, missing_rate=0.1,
        ...                      random_state=0).observed
        >>> imp = DiffusionImputer(window_length=8, n_layers=1, n_channels=8, n_heads=1,
        ...                        n_diffusion_steps=5, n_epochs=1, num_samples=4,
        ...                        device="cpu", random_state=0)
        >>> imp.fit(X) is imp
        True
        >>> imp.n_features_in_, imp.feature_names_in_.tolist()
        (2, ['y0', 'y1'])
        >>> sorted(imp.history_[0])  # one record per epoch
        ['device', 'epoch', 'learning_rate', 'seconds', 'steps', 'train_loss']

        ``mask_patterns`` serve the strategies that copy real gaps:

        >>> imp.fit(X, mask_patterns=X.notna().to_numpy())
        Traceback (most recent call last):
        ...
        ValueError: mask_patterns is only used by target_strategy='historical' or ...
        >>> imp.set_params(target_strategy="mix").fit(
        ...     X, mask_patterns=X.notna().to_numpy()).n_features_in_
        2
        """
        self._validate_params()
        self._forget_fit()
        self.long_columns_ = long_columns(id_col, time_col)
        if id_col is not None:
            X = from_long(X, id_col, time_col)
        arrays = to_arrays(X, freq=self.freq, name="X", panel=True)
        if len(arrays.rows) < 2:
            raise ValueError(
                f"X has {len(arrays.rows)} sample (time step); at least 2 are needed "
                "to fit DiffusionImputer."
            )
        patterns = pattern_windows(
            mask_patterns, len(arrays.columns), self.window_length, self.target_strategy
        )
        held = np.empty(0, dtype=np.int64)  # first rows of the held-out windows
        if self.calibration_share not in (None, "input"):  # a share
            held = hold_out_windows(
                arrays, self.window_length, self.calibration_share,
                self._draw_seeds()[1],
            )  # fmt: skip
        train = without_rows(arrays, held, self.window_length)  # (T, K) masks
        self.scaler_ = self._fit_scaler(train)
        set_feature_info(self, arrays)
        self.freq_ = arrays.freq
        scaled = self._scaled(train)
        values, observed, starts, offset = [], [], [], 0
        for rows in arrays.segments:  # windows never straddle two series
            padded, obs, _ = pad_left(
                scaled[rows], train.observed_mask[rows], self.window_length
            )
            n_starts = len(padded) - self.window_length + 1  # every start
            starts.append(offset + np.arange(n_starts))
            values.append(padded)
            observed.append(obs)
            offset += len(padded)
        windows = WindowSource.from_series(
            np.concatenate(values),  # (T', K): every series, padded where short
            np.concatenate(observed),
            np.concatenate(starts),
            self.window_length,
        )
        lags = self._seasonal_lags(train, self.window_length)
        self._train(windows, prediction_length=0, patterns=patterns, lags=lags)
        self.calibration_ = None
        if len(held):
            self.calibration_ = gap_calibration(
                arrays, held, self.scaler_.select(series_of(arrays, held)),
                self.window_length,
                MaskPolicy(self.target_strategy, 0, patterns), windows,
                self.predict_seed_,
            )  # fmt: skip
            if not (self.history_ and self.history_[-1].get("stopped")):
                self._interval_factors(self.num_samples)  # those of the setting
        return self

    def plot(
        self,
        X: Any,
        *,
        variable: Any = None,
        series: Any = None,
        coverage: Any = (0.5, 0.8, 0.95),
        ax: Any = None,
    ) -> Any:
        """Observed points of ``X``, median and ``coverage`` bands of its gaps
        (:func:`tsdiff.plotting.plot_imputation` of ``predict_quantiles(X)``).

        Parameters
        ----------
        X : DataFrame or Series
            Data to impute (a ``(series id, time)`` panel for several series).
        variable, series, ax
            As in :func:`tsdiff.plotting.plot_imputation`.
        coverage : float or sequence of float, default=(0.5, 0.8, 0.95)
            Central intervals drawn as nested bands.

        Returns
        -------
        matplotlib.axes.Axes, or ndarray of Axes for a grid

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> from tsdiff import DiffusionImputer
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> X = make_seasonal_ar(n_steps=32, n_series=2, missing_rate=0.1,
        ...                      random_state=0).observed
        >>> imp = DiffusionImputer(window_length=8, n_layers=1, n_channels=8, n_heads=1,
        ...                        n_diffusion_steps=5, n_epochs=1, num_samples=4,
        ...                        device="cpu", random_state=0).fit(X)
        >>> ax = imp.plot(X, variable="y1")
        >>> type(ax).__name__, ax.get_title()
        ('Axes', 'y1')
        >>> axes = imp.plot(X, variable=["y0", "y1"])  # one panel per variable
        >>> axes.shape
        (2,)
        >>> plt.close("all")
        """
        from tsdiff.plotting import plot_imputation

        if not isinstance(X, (pd.DataFrame, pd.Series)):
            raise TypeError("plot needs X as a DataFrame or Series (its time index).")
        X = self._from_long(X)  # a long table in the layout of fit: a panel
        q = self.predict_quantiles(X, alpha=band_levels(coverage))
        return plot_imputation(X, q, variable=variable, series=series, ax=ax)

    def _samples(
        self,
        arrays: SeriesArrays,
        num_samples: int | None = None,
        random_state: Any = None,
        calibrate: bool = True,
        means: tuple[np.ndarray, np.ndarray] | None = None,
        noise_std: np.ndarray | None = None,
    ) -> np.ndarray:
        """Imputation samples of shape (S, n_rows, K) of the input's rows; observed
        cells exact; stretched by the calibration factors unless ``calibrate`` is
        False (for the median, which stretching leaves as it is). ``means``, the
        block (-1: none) and scaled block mean of every grid cell, each (T, K),
        holds the block means while sampling (see :mod:`.upsampling`); with the
        scaled ``noise_std`` (K,), observed cells are noisy: every window is
        sampled from them and none kept (see :mod:`.denoising`). The windows of
        every series of a panel are sampled in one batched call."""
        num_samples = check_positive_int(
            self.num_samples if num_samples is None else num_samples, "num_samples"
        )
        seed = self._sample_seed(random_state)
        scaled = self._scaled(arrays)
        observed = arrays.observed_mask
        stride = self.window_stride or max(1, self.window_length // 2)
        plans = [  # denoising samples every window
            window_plan(scaled[r], observed[r], self.window_length, stride,
                        every=noise_std is not None)
            for r in arrays.segments
        ]  # fmt: skip
        needed = [p["windows"][p["needed"]] for p in plans]
        cond = [p["cond_windows"][p["needed"]] for p in plans]
        kept = None  # or the block means of the windows sampled
        if means is not None:
            kept = window_means(*means, arrays.segments, plans, self.window_length)
        drawn = np.empty((num_samples, 0, self.window_length, len(arrays.columns)))
        if sum(len(w) for w in needed):
            drawn = self._sample_windows(
                np.concatenate(needed), np.concatenate(cond), num_samples, seed,
                means=kept, noise_std=noise_std,
            )  # (S, n_needed, L, K)  # fmt: skip
        splits = np.cumsum([len(w) for w in needed])[:-1]
        series = []
        for plan, part in zip(plans, np.split(drawn, splits, axis=1), strict=True):
            windows = plan["windows"]  # (N, L, K)
            samples = np.broadcast_to(windows, (num_samples, *windows.shape)).copy()
            samples[:, plan["needed"]] = part
            n_steps = plan["n_steps"]
            stitched = stitch_windows(samples, plan["starts"], n_steps)  # (S, T', K)
            series.append(stitched[:, plan["n_pad"] :])
        unscaled = self.scaler_.inverse_transform(np.concatenate(series, axis=1))
        factors = None  # or (G, 1, K)
        if calibrate and self.calibration_share == "input":
            factors = self._input_factors(arrays, num_samples, seed)
        elif calibrate:
            factors = self._interval_factors(num_samples)  # None without a share
        if factors is not None:  # observed cells: all samples alike, unmoved
            levels = stretch_levels(self.calibration_coverage)
            unscaled = widen(unscaled, factors, self.quantile_method, levels)
        if noise_std is None:  # observed cells exact
            unscaled = np.where(arrays.observed_mask, arrays.values, unscaled)
        return unscaled[:, arrays.rows]  # (S, n_rows, K)

    def _interval_factors(self, num_samples: int) -> np.ndarray | None:
        """The calibration factors (G, 1, K) of draws of ``num_samples`` with the
        current settings (found on the held-out windows the first time); None
        without calibration or for a single draw."""
        calibration = getattr(self, "calibration_", None)
        if calibration is None or num_samples < 2:
            return None

        return calibration.factors_for(
            setting_key(self, num_samples), self.calibration_coverage,
            self.quantile_method,
            lambda: calibration.draw(
                self._sample_windows, num_samples, self.predict_seed_
            ),
        )  # fmt: skip

    def _input_factors(
        self, arrays: SeriesArrays, num_samples: int, seed: int
    ) -> np.ndarray | None:
        """Factors (G, 1, K) found on the input itself; None for one draw or none."""
        if num_samples < 2:
            return None
        return input_factors(
            arrays, self.scaler_, self.window_length, self.target_strategy,
            self._sample_windows, num_samples, seed, self.calibration_coverage,
            self.quantile_method,
        )  # fmt: skip
