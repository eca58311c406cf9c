"""The loaders only read: nothing is created or modified in the data folder."""

from tsdiff.datasets import (
    load_ett,
    load_exchange_rate,
    load_exchange_rate_nips,
    load_ili,
    load_physionet2012,
    load_pm25,
    load_tsf,
)


def _snapshot(root):
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
    )


def test_loading_every_shared_file_leaves_the_folder_unchanged(shared_data):
    root = shared_data(".")
    before = _snapshot(root)
    calls = [
        (load_pm25, "beijing_pm25_stmvl", {}),
        (load_physionet2012, "physionet2012/set-a.tar.gz", {"max_records": 5}),
        (load_ett, "ett/ETTh1.csv", {}),
        (load_ett, "ett/ETTm1.csv.gz", {}),
        (load_exchange_rate, "exchange_rate/exchange_rate.txt.gz", {}),
        (load_exchange_rate_nips, "exchange_rate/exchange_rate_nips.tar.gz", {}),
        (load_ili, "ili/national_illness.csv", {}),
        (load_tsf, "monash/solar_weekly_dataset.tsf", {}),
    ]
    for loader, relative, kwargs in calls:
        path = root / relative
        if path.exists():
            loader(path, **kwargs)
    assert _snapshot(root) == before
