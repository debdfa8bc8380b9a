"""make play on a text run, in a real browser (headless Chromium): both models write side by side, and bad
input is said on the page."""

import pytest

from gan_tf import commands
from gan_tf.play import texts
from gan_tf.text import sample
from tests import browser

pytestmark = pytest.mark.slow  # A browser and a server: seconds, not milliseconds.


@pytest.fixture(scope="module")
def run(text_run):
    """text_run's config and each model's sample.Writer, to compare the page with make sample."""
    checkpoint_dir = text_run[0] / "checkpoints"
    config = commands.trained_config(checkpoint_dir)
    writers = {
        model: sample.Writer(sample.restore(checkpoint_dir, config, model).model, config) for model in texts.NAMES
    }
    return checkpoint_dir, config, writers


@pytest.fixture(scope="module")
def address(run):
    functions, source = commands.play_functions(run[0], None, None)
    assert isinstance(functions, texts.TextWriters) and functions.models == ["lm", "gan"]
    with browser.serving(functions, source) as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture
def page(address, chromium):
    page = browser.Page(chromium, address, updates_at_load=1)
    yield page
    page.page.close()


def shown(page, model):
    return page.page.locator(f"#texts-{model} li").all_inner_texts()


def written(run, model, seed, **options):
    return sample.write(run[2][model], texts.TEXTS, seed, **options)


def test_both_models_write_make_samples_texts_side_by_side(page, run):
    assert page.console_errors == []
    assert page.page.inner_text("#title") == "Write with the language model and the GAN"
    for model in ("lm", "gan"):
        assert shown(page, model) == written(run, model, 0)
    page.act(lambda tab: tab.click("#new-texts"))  # Seed 1, for both.
    assert page.page.input_value("#seed") == "1"
    assert shown(page, "lm") == written(run, "lm", 1) and shown(page, "gan") == written(run, "gan", 1)
    page.act(lambda tab: tab.click("#show-gan"))  # The GAN alone.
    assert page.page.locator("#column-lm").is_hidden() and shown(page, "gan") == written(run, "gan", 1)


def test_a_beginning_an_acrostic_a_class_and_the_temperature(page, run):
    page.page.fill("#prompt", "天")
    page.page.fill("#acrostic", "天地")
    page.page.select_option("#class", "1")
    page.act(lambda tab: tab.click("#write"))
    options = {"prompt": "天", "acrostic": "天地", "label": 1}
    assert shown(page, "gan") == written(run, "gan", 0, **options)
    assert all(text.startswith("天") for text in shown(page, "lm"))
    page.page.fill("#temperature", "0.5")
    page.act(lambda tab: tab.dispatch_event("#temperature", "change"))
    assert shown(page, "lm") == written(run, "lm", 0, temperature=0.5, **options)


def test_bad_input_is_said_and_the_texts_stay(page, run):
    before = shown(page, "gan")
    for field, value, message in [
        ("#prompt", "冬", "the run has never seen 冬 in its texts"),
        ("#prompt", "天" * 40, "give at most"),
        ("#seed", "-3", "the seed must be a whole number"),
    ]:
        page.page.fill(field, value)
        page.act(lambda tab: tab.click("#write"))
        assert message in page.message(), page.message()
        assert shown(page, "gan") == before
        page.page.fill(field, "0" if field == "#seed" else "")
    page.act(lambda tab: tab.click("#write"))
    assert page.message() == ""
    # The browser logs each refused request (400); nothing else went wrong.
    assert len(page.console_errors) == 2 and all("status of 400" in error for error in page.console_errors)
