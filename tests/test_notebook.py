"""docs/notebook-example.ipynb runs end to end in a Jupyter kernel (nbclient), and its checks pass: findings
`>= "high"`, the top ten people by surviving lines, findings joined to people on person_id, ownership by
module plotted, each one line of pandas checked against the sample's answer file."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebook-example.ipynb"


def test_notebook_example_runs_and_its_checks_pass(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:            # run from scratch: the committed outputs are only an illustration
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()     # a failing assert in a cell raises CellExecutionError here
    codes = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not any(o.get("output_type") == "error" for o in c.outputs) for c in codes)
    # the plot was drawn, and the progress display was shown (progress=True)
    kinds = [o.get("data", {}) for c in codes for o in c.outputs]
    assert any("image/png" in d for d in kinds)
    assert any("application/vnd.jupyter.widget-view+json" in d or "text/plain" in d for d in kinds[:3])
