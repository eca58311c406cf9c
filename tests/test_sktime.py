"""The sktime adapter (optional extra): sktime's own estimator checks, and panels
forecast by one global model."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sktime")

from sktime.utils.estimator_checks import check_estimator  # noqa: E402

from tsdiff.sktime import DiffusionSktimeForecaster  # noqa: E402

TINY = DiffusionSktimeForecaster.get_test_params()[0]


def test_passes_sktime_check_estimator():
    results = check_estimator(DiffusionSktimeForecaster, raise_exceptions=False)
    failed = {name: str(error)[:300] for name, error in results.items()
              if error != "PASSED"}  # fmt: skip
    assert len(results) > 100 and not failed


def test_a_panel_is_one_global_model_with_quantiles_and_intervals():
    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_product(
        [["a", "b", "c"], pd.date_range("2024-01-01", periods=30, freq="D")],
        names=["id", "time"],
    )
    y = pd.DataFrame({"sales": rng.normal(size=90).cumsum()}, index=index)
    forecaster = DiffusionSktimeForecaster(**TINY).fit(y, fh=[1, 2, 3])
    assert list(forecaster.forecaster_.series_ids_) == ["a", "b", "c"]  # not 3 fits
    q = forecaster.predict_quantiles(alpha=[0.1, 0.9])
    assert q.shape == (9, 2) and q.index.names == ["id", "time"]
    assert (q.iloc[:, 1] >= q.iloc[:, 0]).all()
    intervals = forecaster.predict_interval(coverage=0.8)
    assert intervals.shape == (9, 2)
    np.testing.assert_allclose(intervals.to_numpy(), q.to_numpy())  # same samples
