"""The example notebooks run end to end (tiny settings) and write their figures."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATA = (EXAMPLES.parent / ".." / "shared" / "data").resolve()

NOTEBOOKS = {
    "forecasting_covariates": ["forecasting_covariates.png"],
    "sklearn_pipeline": ["sklearn_pipeline_imputation.png"],
    "air_quality_imputation": ["air_quality_imputation.png"],
}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_runs_and_saves_its_figures(name, tmp_path, monkeypatch):
    if name == "air_quality_imputation" and not (DATA / "beijing_pm25_stmvl").exists():
        pytest.skip(f"benchmark data {DATA} is not available")
    monkeypatch.setenv("TSDIFF_EXAMPLE_TINY", "1")
    monkeypatch.setenv("TSDIFF_FIGURES", str(tmp_path))
    monkeypatch.setenv("TSDIFF_DATA", str(DATA))
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "2"))
    notebook = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES)}},
    )  # fmt: skip
    client.execute()  # raises CellExecutionError on any failing cell
    for figure in NOTEBOOKS[name]:
        assert (tmp_path / figure).stat().st_size > 5000, figure
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_stored_notebook_shows_its_outputs_and_figures(name):
    """The notebooks are stored executed, so a code host shows what they do."""
    notebook = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), counts  # one run, in order
    outputs = [output for cell in code for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o.text for o in outputs if o.get("name") == "stderr"]
    warned = [text for text in stderr if "warn" in text.lower()]
    assert not warned  # e.g. tqdm's "IProgress not found" (tsdiff.engine._progress)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= len(NOTEBOOKS[name])  # every saved figure is shown too
