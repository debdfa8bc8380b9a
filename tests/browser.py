"""The play page in a real browser: Debian's Chromium, headless, driven by Playwright.

Playwright's own browser download cannot reach its servers from these machines, so it drives the
system's /usr/bin/chromium (the Makefile installs it with apt-get). Used by tests/test_play_browser.py
and tests/play_timing.py.
"""

import base64
import contextlib
import io
import pathlib
import threading

import numpy as np
import PIL.Image

from gan_tf.play import server

CHROMIUM = pathlib.Path("/usr/bin/chromium")
# Headless, and no connections of Chromium's own: this machine's closed network refuses them, noisily.
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1100, "height": 700}


@contextlib.contextmanager
def chromium():
    """A headless Chromium (a Playwright Browser), closed at the end."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def serving(functions, source="a run"):
    """A play server over `functions` on a free port of 127.0.0.1, in a thread; yields its address."""
    play = server.PlayServer(functions, "127.0.0.1", 0, source)
    thread = threading.Thread(target=play.serve_forever, daemon=True)
    thread.start()
    try:
        yield play.url
    finally:
        play.shutdown()
        play.server_close()


class Page:
    """The play page in a browser tab, with the console's errors and the page's own timing of each update."""

    def __init__(self, browser, url, updates_at_load=2):
        self.page = browser.new_page(viewport=VIEWPORT)
        self.console_errors = []
        self.page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.goto(url)
        self.wait_for_updates(updates_at_load)  # Pictures: the first grid, then the first morph; texts: one.

    def updates(self):
        return int(self.page.get_attribute("#status", "data-updates") or 0)

    def wait_for_updates(self, count):
        self.page.wait_for_function(f"Number(document.getElementById('status').dataset.updates || 0) >= {count}")

    def act(self, action):
        """Does `action` (a function of the Playwright page) and waits until the page says the update is done."""
        before = self.updates()
        action(self.page)
        self.wait_for_updates(before + 1)

    def last_update_milliseconds(self):
        """The page's own time from the click to the picture on screen (performance.now())."""
        return float(self.page.get_attribute("#status", "data-milliseconds"))

    def message(self):
        return self.page.inner_text("#message")

    def pixels(self, selector, mode="L"):
        """The picture an <img> shows, read back through a canvas: uint8 (H, W) grey, or (H, W, 3) in mode "RGB"."""
        data_url = self.page.eval_on_selector(
            selector,
            """image => {
            const canvas = document.createElement("canvas");
            canvas.width = image.naturalWidth;
            canvas.height = image.naturalHeight;
            canvas.getContext("2d").drawImage(image, 0, 0);
            return canvas.toDataURL("image/png");
        }""",
        )
        content = base64.b64decode(data_url.split(",", 1)[1])
        return np.asarray(PIL.Image.open(io.BytesIO(content)).convert(mode))

    def broken_pictures(self):
        """The ids of the <img>s shown on the page without a picture (a broken-image frame or alt text)."""
        return self.page.eval_on_selector_all(
            "img",
            """images => images.filter((image) => getComputedStyle(image).visibility !== "hidden"
                && image.offsetParent !== null && !(image.complete && image.naturalWidth > 0)).map((image) => image.id)""",
        )

    def draw(self, strokes):
        """Draws on the pad with the mouse: strokes, each a list of (x, y) in the pad's 280 x 280 pixels."""
        box = self.page.locator("#pad").bounding_box()
        scale = box["width"] / 280  # The page shows the pad smaller than its pixels.
        for stroke in strokes:
            self.page.mouse.move(box["x"] + stroke[0][0] * scale, box["y"] + stroke[0][1] * scale)
            self.page.mouse.down()
            for x, y in stroke[1:]:
                self.page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=4)
            self.page.mouse.up()


SEVEN = [[(90, 60), (190, 60), (120, 230)]]  # A bar and a downstroke, as a mouse draws a 7.
