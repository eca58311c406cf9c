"""Long tables to and from (series id, time) panels: from_long and to_long."""

import numpy as np
import pandas as pd
import pytest

from tsdiff import DiffusionImputer
from tsdiff.frames import from_long, to_long


def _long():
    """Two stores of different lengths and start dates, rows shuffled."""
    rows = [
        ("b", "2024-01-03", 5.0, 1.0),
        ("a", "2024-01-02", np.nan, 2.0),
        ("a", "2024-01-01", 3.0, 3.0),
        ("b", "2024-01-02", 4.0, np.nan),
        ("a", "2024-01-03", 6.0, 4.0),
    ]
    df = pd.DataFrame(rows, columns=["store", "day", "sales", "visits"])
    return df.assign(day=pd.to_datetime(df["day"]))


def test_from_long_indexes_by_series_then_time_and_keeps_the_input():
    df = _long()
    before = df.copy()
    panel = from_long(df, "store", "day")
    pd.testing.assert_frame_equal(df, before)  # not modified
    assert panel.index.names == ["store", "day"]
    assert panel.columns.tolist() == ["sales", "visits"]
    # Series in order of first appearance ("b" first), times sorted within each.
    assert panel.index.get_level_values(0).tolist() == ["b", "b", "a", "a", "a"]
    assert panel.loc["a"].index.is_monotonic_increasing
    assert panel.loc[("a", pd.Timestamp("2024-01-01")), "sales"] == 3.0
    only = from_long(df, "store", "day", value_cols=["visits"])
    assert only.columns.tolist() == ["visits"]


def test_to_long_inverts_from_long():
    df = _long()
    back = to_long(from_long(df, "store", "day"))
    pd.testing.assert_frame_equal(
        back.sort_values(["store", "day"]).reset_index(drop=True),
        df.sort_values(["store", "day"]).reset_index(drop=True),
    )


def test_to_long_makes_one_row_per_cell_of_an_estimators_output(tiny):
    panel = from_long(_long(), "store", "day")
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    big = pd.concat(
        {
            s: pd.DataFrame(rng.normal(size=(30, 2)), index=days, columns=panel.columns)
            for s in "ab"
        },
        names=["store", "day"],
    )
    big.iloc[3, 0] = np.nan
    imputer = DiffusionImputer(**tiny, window_length=8).fit(big)
    q = imputer.predict_quantiles(big, alpha=(0.1, 0.9))
    long = to_long(q)
    assert long.columns.tolist() == ["store", "day", "variable", "quantile", "value"]
    assert len(long) == q.size
    row = long[(long.store == "a") & (long.day == days[3]) & (long.variable == "sales")]
    assert row.set_index("quantile")["value"].to_dict() == {
        0.1: q.loc[("a", days[3]), ("sales", 0.1)],
        0.9: q.loc[("a", days[3]), ("sales", 0.9)],
    }


def test_to_long_names_unnamed_levels():
    index = pd.MultiIndex.from_tuples([("x", 0), ("x", 1)])
    long = to_long(pd.DataFrame({"v": [1.0, 2.0]}, index=index))
    assert long.columns.tolist() == ["id", "time", "v"]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda df: from_long(df.to_numpy(), "store", "day"), TypeError, "DataFrame"),
        (lambda df: from_long(df, "store", "store"), ValueError, "both 'store'"),
        (lambda df: from_long(df, "shop", "day"), ValueError, r"\['shop'\]"),
        (
            lambda df: from_long(df, "store", "day", value_cols=["price"]),
            ValueError,
            r"\['price'\] are not in",
        ),
        (
            lambda df: from_long(df[["store", "day"]], "store", "day"),
            ValueError,
            "No value columns",
        ),
        (
            lambda df: from_long(
                df.assign(store=[None, *df.store[1:]]), "store", "day"
            ),
            ValueError,
            "'store' has missing values",
        ),
        (
            lambda df: from_long(pd.concat([df, df.iloc[:1]]), "store", "day"),
            ValueError,
            "1 rows repeat a",
        ),
        (lambda df: to_long(df), ValueError, "has 1 level"),
        (lambda df: to_long(df.to_numpy()), TypeError, "DataFrame"),
    ],
)
def test_bad_long_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call(_long())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda df: from_long(df, "store", "day", value_cols="sales"),
            TypeError,
            r"write \['sales'\]",
        ),
        (
            lambda df: from_long(df, "store", "day", value_cols=["store", "sales"]),
            ValueError,
            "include the id or time column",
        ),
        (lambda df: from_long(df, ["store"], "day"), TypeError, "id_col must name"),
        (
            lambda df: to_long(
                from_long(df, "store", "day").rename(columns={"sales": "day"})
            ),
            ValueError,
            "some of them twice",
        ),
    ],
)
def test_name_clashes_and_wrong_kinds_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call(_long())


def test_to_nixtla_names_point_and_interval_columns_per_series_and_variable():
    from tsdiff.frames import to_nixtla

    index = pd.MultiIndex.from_product(
        [["s1", "s2"], pd.date_range("2024-01-01", periods=2, freq="D")],
        names=["store", "day"],
    )
    columns = pd.MultiIndex.from_product(
        [["sales", "visits"], [0.025, 0.1, 0.5, 0.9, 0.975]],
        names=["variable", "quantile"],
    )
    q = pd.DataFrame(np.arange(40.0).reshape(4, 10), index=index, columns=columns)
    before = q.copy()
    out = to_nixtla(q, model="CSDI")
    pd.testing.assert_frame_equal(q, before)  # not modified
    assert list(out.columns) == [
        "unique_id", "ds", "CSDI", "CSDI-lo-95", "CSDI-lo-80", "CSDI-hi-80",
        "CSDI-hi-95",
    ]  # fmt: skip
    assert (
        list(out["unique_id"])
        == ["s1/sales"] * 2 + ["s2/sales"] * 2 + ["s1/visits"] * 2 + ["s2/visits"] * 2
    )
    first = out.iloc[0]
    assert first["CSDI"] == 2.0 and first["CSDI-lo-95"] == 0.0
    assert first["CSDI-hi-80"] == 3.0 and first["ds"] == pd.Timestamp("2024-01-01")
    # Interval frames (no point column) and single series.
    intervals = pd.DataFrame(
        [[1.0, 5.0]],
        index=pd.Index([7]),
        columns=pd.MultiIndex.from_tuples(
            [("y", 0.9, "lower"), ("y", 0.9, "upper")],
            names=["variable", "coverage", "bound"],
        ),
    )
    flat = to_nixtla(intervals)
    assert list(flat.columns) == ["unique_id", "ds", "tsdiff-lo-90", "tsdiff-hi-90"]
    assert flat.iloc[0].tolist() == ["y", 7, 1.0, 5.0]
    one = to_nixtla(q[["sales"]])  # one variable of a panel: the series id
    assert list(one["unique_id"].unique()) == ["s1", "s2"]
    with pytest.raises(ValueError, match="no pair symmetric about 0.5"):
        to_nixtla(q.loc[:, pd.IndexSlice[:, [0.5, 0.9]]])
    with pytest.raises(ValueError, match="predict_quantiles"):
        to_nixtla(pd.DataFrame({"a": [1.0]}))


def test_to_nixtla_keeps_the_cutoffs_of_a_backtest():
    from tsdiff.frames import to_nixtla

    index = pd.MultiIndex.from_tuples(
        [(1, "a", 2), (1, "a", 3), (3, "a", 4)], names=["cutoff", "id", "t"]
    )
    q = pd.DataFrame(
        [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]],
        index=index,
        columns=pd.MultiIndex.from_product(
            [["y"], [0.1, 0.5, 0.9]], names=["variable", "quantile"]
        ),
    )
    out = to_nixtla(q)
    assert list(out.columns[:3]) == ["unique_id", "ds", "cutoff"]
    assert out["cutoff"].tolist() == [1, 1, 3] and out["ds"].tolist() == [2, 3, 4]
    assert out["unique_id"].tolist() == ["a"] * 3
    four = q.set_index(pd.MultiIndex.from_tuples([(0, 1, "a", 2)] * 3), append=False)
    with pytest.raises(ValueError, match="index levels"):
        to_nixtla(four)
