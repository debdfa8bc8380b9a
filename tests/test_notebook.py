"""The walkthrough notebook runs from top to bottom, as a student would run it, on small synthetic digits,
on a tiny folder of pictures and on poems it makes itself."""

import base64
import io
import pathlib
import time

import nbclient
import nbformat
import PIL.Image
import pytest

from tests.conftest import write_mnist_npz

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"


@pytest.mark.slow
def test_the_walkthrough_runs_top_to_bottom(tmp_path, monkeypatch):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code_cells)  # Stored without outputs.

    # The kernel inherits this environment: gan_tf from this checkout, and MNIST's stand-in.
    monkeypatch.setenv("GAN_TF_MNIST", str(write_mnist_npz(tmp_path / "mnist.npz", train_count=300, test_count=200)))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    start = time.perf_counter()
    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    print(f"\nthe walkthrough ran in {time.perf_counter() - start:.1f} s")

    outputs = [output for cell in code_cells for output in cell.outputs]
    pictures = [output["data"]["image/png"] for output in outputs if "image/png" in output.get("data", {})]
    gifs = [output for output in outputs if "image/gif" in output.get("data", {})]
    text = "".join(output.get("text", "") for output in outputs)

    # Each picture in order, (height, width): a grid of N pictures of side S in C columns, 2 pixels apart,
    # each pixel shown 2x2: 30 digits in 3 rows of 10; the last frame, 10 x 10; 20 sevens in 5 columns;
    # 20 test digits over their reconstructions, rows of 10; 20 shapes of 32 pixels in rows of 10; 4 circles; 4 squares.
    def grid(count, columns, side=28):
        rows = -(-count // columns)
        return (2 * (rows * (side + 2) + 2), 2 * (columns * (side + 2) + 2))

    expected = [
        grid(30, 10),
        grid(100, 10),
        grid(20, 5),
        grid(40, 10),
        grid(20, 10, 32),
        grid(4, 4, 32),
        grid(4, 4, 32),
    ]
    sizes = [PIL.Image.open(io.BytesIO(base64.b64decode(picture))).size[::-1] for picture in pictures]
    assert sizes == expected and len(gifs) == 2  # And the training and interpolation GIFs.
    assert "300 digits for this notebook" in text and "discriminator loss" in text
    assert "MNIST score" in text and "latent 1-NN accuracy" in text
    # The tiny folder it makes: 144 colour pictures to train on, two classes named by their sub-folders.
    assert "(144, 32, 32, 3) ('circles', 'squares')" in text
    assert "circles (4, 32, 32, 3)" in text and "squares (4, 32, 32, 3)" in text
    # The poems it writes itself: 216 to train on, both models' texts from one seed, and make evaluate's figures.
    assert "(train, 216 texts) | vocabulary:" in text and text.count("seed 0, text") == 6
    assert "self-BLEU-4" in text and "with a real text's form" in text and "GAN" in text
