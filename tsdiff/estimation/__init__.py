"""What the estimators are built from (internal; the public estimators are
:class:`tsdiff.DiffusionForecaster`, :class:`tsdiff.DiffusionImputer` and the
baselines).

``base`` (the diffusion estimators' shared shell over the engine's model),
``forecasting`` and ``imputing`` (the predict methods of each task), ``histories``
(the series a forecast continues), ``covariates`` (exogenous, static and calendar
inputs), ``calibration`` (intervals widened on held-out windows), ``backtest``
(rolling-origin evaluation), ``quantiles`` (quantiles and intervals from samples),
``validation`` (parameter checks and fit bookkeeping), ``persistence`` (save, load
and the defaults of files written before an option existed) and ``docs`` (the
parameter text both estimators share).
"""
