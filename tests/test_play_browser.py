"""make play in a real browser (headless Chromium): what a student clicks shows what the generator draws."""

import numpy as np
import PIL.Image
import pytest

from gan_tf import export
from gan_tf.play import pictures
from tests import browser

pytestmark = pytest.mark.slow  # A browser and a server: seconds, not milliseconds.


@pytest.fixture
def functions(tiny_functions):
    return tiny_functions


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module (Playwright's sync API allows one at a time)."""
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def address(tiny_functions):
    """The address of the play page over tiny_run, served for the module's tests."""
    with browser.serving(tiny_functions, "tiny run") as url:
        yield url


@pytest.fixture
def page(address, chromium):
    """The play page, newly opened in headless Chromium: each test starts from the page as it loads
    (the tests may run in any order, on any worker)."""
    page = browser.Page(chromium, address)
    yield page
    page.page.close()


def keep_style_6_of_seed_1(page):
    """New styles (seed 1), then a click on the grid's cell of row 1, column 2: style 6."""
    page.act(lambda tab: tab.click("#new-styles"))
    box = page.page.locator("#grid").bounding_box()
    page.act(lambda tab: tab.mouse.click(box["x"] + box["width"] * 2.5 / 4, box["y"] + box["height"] * 1.5 / 4))


def test_the_page_loads_without_console_errors_and_shows_new_digits(page, functions):
    assert page.console_errors == [] and page.broken_pictures() == []
    assert page.page.inner_text("#title") == "Play with the digits"
    assert np.array_equal(page.pixels("#morph"), pictures.morph(functions, 0, 0, 1, label_from=1, label_to=7))
    assert np.array_equal(page.pixels("#grid"), pictures.grid(functions, 0))  # 0..9 in turn, seed 0.
    assert page.page.locator("#label-buttons button").count() == 10


def test_clicking_7_shows_the_generators_sevens_of_that_seed(page, functions):
    page.act(lambda tab: tab.click("#label-7"))
    assert np.array_equal(page.pixels("#grid"), pictures.grid(functions, 0, label=7))
    page.act(lambda tab: tab.click("#new-styles"))  # Seed 1: new styles of the same digit.
    assert page.page.input_value("#seed") == "1"
    assert np.array_equal(page.pixels("#grid"), pictures.grid(functions, 1, label=7))
    assert page.console_errors == []


def test_a_style_kept_writes_every_digit_and_a_slider_moves_it(page, functions):
    keep_style_6_of_seed_1(page)
    assert np.array_equal(page.pixels("#every-label"), pictures.every_label(functions, 1, 6))
    page.act(lambda tab: tab.fill("#slider-0", "2"))
    assert np.array_equal(page.pixels("#every-label"), pictures.every_label(functions, 1, 6, [2.0, 0, 0, 0]))


def test_a_morph_goes_from_one_digit_to_another(page, functions):
    keep_style_6_of_seed_1(page)
    page.page.select_option("#label-from", "1")
    page.page.select_option("#label-to", "7")
    page.page.fill("#morph-to", "3")
    page.act(lambda tab: tab.click("#morph-button"))
    assert np.array_equal(page.pixels("#morph"), pictures.morph(functions, 1, 6, 3, label_from=1, label_to=7))


def test_drawing_a_digit_shows_the_encoders_reading_and_its_redrawing(page, functions):
    page.draw(browser.SEVEN)
    page.act(lambda tab: tab.click("#read"))
    seen = page.pixels("#read-picture")
    assert seen.shape == (28, 28) and seen.max() > 200 and seen[0, 0] == 0
    latent, logits = functions.read(seen[np.newaxis])
    label = int(np.argmax(logits[0]))
    assert np.array_equal(page.pixels("#redrawn"), functions.draw(latent, [label])[0])
    assert f"The encoder reads a {label}" in page.page.inner_text("#reading")
    assert page.message() == "" and page.console_errors == []


def test_an_upload_that_is_not_a_picture_gets_a_message_and_the_page_goes_on(page, functions, tmp_path):
    (tmp_path / "notes.png").write_text("these are notes, not a picture")
    page.act(lambda tab: tab.set_input_files("#upload", str(tmp_path / "notes.png")))
    assert "not a picture this page can read" in page.message()
    page.act(lambda tab: tab.click("#new-styles"))
    page.act(lambda tab: tab.click("#label-3"))
    assert page.message() == ""
    assert np.array_equal(page.pixels("#grid"), pictures.grid(functions, 1, label=3))


def test_a_run_without_digit_labels_plays_from_its_export(tiny_cluster_run, chromium):
    root, _ = tiny_cluster_run
    functions = export.Loaded(root / "export")
    with browser.serving(functions, "tiny cluster run") as url:
        page = browser.Page(chromium, url)
        assert page.console_errors == [] and page.page.locator("#label-buttons button").count() == 0
        assert "learnt 3 clusters of its pictures by itself" in page.page.inner_text("#label-buttons")
        assert page.broken_pictures() == []
        assert np.array_equal(page.pixels("#grid"), pictures.grid(functions, 0))
        page.act(lambda tab: tab.click("#new-styles"))
        assert np.array_equal(page.pixels("#grid"), pictures.grid(functions, 1))
        page.draw(browser.SEVEN)
        page.act(lambda tab: tab.click("#read"))
        assert "The encoder puts it in cluster" in page.page.inner_text("#reading") and page.message() == ""


def test_a_colour_run_shows_colour_pictures_and_a_button_per_class_named_by_its_data(
    tiny_colour_run, chromium, tmp_path
):
    functions = export.Loaded(tiny_colour_run[0] / "export")
    with browser.serving(functions, "tiny colour run") as url:
        page = browser.Page(chromium, url)
        assert page.console_errors == [] and page.broken_pictures() == []
        assert page.page.inner_text("#title") == "Play with the pictures"
        assert [page.page.inner_text(f"#label-{label}") for label in range(3)] == ["cat", "dog", "ship"]
        assert np.array_equal(page.pixels("#grid", "RGB"), pictures.grid(functions, 0))
        page.act(lambda tab: tab.click("#label-1"))
        assert np.array_equal(page.pixels("#grid", "RGB"), pictures.grid(functions, 0, label=1))
        assert np.array_equal(page.pixels("#every-label", "RGB"), pictures.every_label(functions, 0, 0))
        page.page.select_option("#label-from", "2")
        page.page.select_option("#label-to", "0")
        page.act(lambda tab: tab.click("#morph-button"))
        assert np.array_equal(
            page.pixels("#morph", "RGB"), pictures.morph(functions, 0, 0, 1, label_from=2, label_to=0)
        )
        photo = np.zeros((40, 60, 3), np.uint8)
        photo[5:35, 15:45] = (30, 90, 220)
        PIL.Image.fromarray(photo).save(tmp_path / "photo.png")
        page.act(lambda tab: tab.set_input_files("#upload", str(tmp_path / "photo.png")))
        expected = pictures.read_picture(functions, (tmp_path / "photo.png").read_bytes())
        assert np.array_equal(page.pixels("#read-picture", "RGB"), expected["picture"])
        assert np.array_equal(page.pixels("#redrawn", "RGB"), expected["redrawn"])
        name = ["cat", "dog", "ship"][expected["label"]]
        assert f"The encoder reads it as {name}" in page.page.inner_text("#reading") and page.message() == ""
        assert page.console_errors == []
