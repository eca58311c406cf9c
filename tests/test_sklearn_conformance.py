"""DiffusionImputer in scikit-learn: its own estimator checks, tags, output
containers and feature names, and composition in Pipeline, ColumnTransformer and
GridSearchCV over time-series splits."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from tsdiff import DiffusionImputer

CHECK_SIZE = dict(
    window_length=4,
    n_layers=1,
    n_channels=8,
    n_heads=2,
    time_embedding_dim=8,
    feature_embedding_dim=4,
    diffusion_embedding_dim=8,
    n_diffusion_steps=5,
    n_epochs=1,
    steps_per_epoch=2,
    batch_size=16,
    num_samples=4,
    device="cpu",
    random_state=0,
)

ONE_D = (
    "a 1-D array is one series of one variable (as a pandas Series is), not an "
    "error: tsdiff reads rows as time steps, so 1-D input has a meaning"
)


@parametrize_with_checks(
    [DiffusionImputer(**CHECK_SIZE)],
    expected_failed_checks=lambda est: {
        "check_fit1d": ONE_D,
        "check_fit2d_predict1d": ONE_D,
    },
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_tags_declare_missing_values_and_dtypes():
    tags = get_tags(DiffusionImputer(**CHECK_SIZE))
    assert tags.input_tags.allow_nan
    assert not tags.input_tags.sparse
    assert tags.transformer_tags.preserves_dtype == ["float64", "float32"]


def _frame(n=48, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    values = np.sin(t / 4 + np.arange(3)) + 0.1 * rng.normal(size=(n, 3))
    values[rng.random(values.shape) < 0.15] = np.nan
    index = pd.date_range("2024-01-01", periods=n, freq="h")
    return pd.DataFrame(values, index=index, columns=["a", "b", "c"])


def test_feature_names_and_set_output():
    frame = _frame()
    imp = DiffusionImputer(**CHECK_SIZE).fit(frame)
    assert list(imp.get_feature_names_out()) == ["a", "b", "c"]
    assert list(imp.feature_names_in_) == ["a", "b", "c"]
    array_in = imp.fit(frame.to_numpy()).get_feature_names_out()
    assert list(array_in) == ["x0", "x1", "x2"]
    imp.set_output(transform="pandas")
    out = imp.transform(frame.to_numpy())
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["x0", "x1", "x2"]
    with pytest.raises(ValueError, match="is expecting 3 features"):
        imp.transform(frame.to_numpy()[:, :2])


def test_column_transformer_imputes_some_columns_and_scales_others():
    frame = _frame().assign(d=np.arange(48.0))
    before = frame.copy()
    columns = ColumnTransformer(
        [
            ("impute", DiffusionImputer(**CHECK_SIZE), ["a", "b", "c"]),
            ("scale", StandardScaler(), ["d"]),
        ]
    ).set_output(transform="pandas")
    out = columns.fit_transform(frame)
    pd.testing.assert_frame_equal(frame, before)  # not modified
    assert list(out.columns) == ["impute__a", "impute__b", "impute__c", "scale__d"]
    assert not out.isna().any().any()
    given = frame[["a", "b", "c"]].to_numpy()
    observed = ~np.isnan(given)
    np.testing.assert_array_equal(out.iloc[:, :3].to_numpy()[observed], given[observed])


def test_grid_search_over_time_series_splits_tunes_the_imputer():
    frame = _frame(n=96)
    target = frame["a"].shift(-1).fillna(0.0).to_numpy()  # next-step target
    pipe = Pipeline([("impute", DiffusionImputer(**CHECK_SIZE)), ("model", Ridge())])
    search = GridSearchCV(
        pipe,
        {"impute__window_length": [4, 8]},
        cv=TimeSeriesSplit(n_splits=2),
        scoring="neg_mean_absolute_error",
    )
    search.fit(frame, target)
    assert search.best_params_["impute__window_length"] in (4, 8)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 2 and np.isfinite(scores).all()
    assert search.predict(frame).shape == (96,)
