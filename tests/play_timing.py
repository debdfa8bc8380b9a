"""How long a page update of make play takes, measured in headless Chromium; and the README's screenshot.

    python -m tests.play_timing --checkpoint-dir checkpoints [--clicks 10] [--screenshot docs/play.png] [--upload PICTURE]

(`make play-timing`.) Serves the run as make play does, opens the page, clicks its classes in turn
(New styles, in a run without classes), then reads a drawn 7 (or the --upload picture) a few times, and
prints each update's time as the page measures it, from the click to the new picture on screen, with
the medians. On a text run it presses New texts instead, both models writing side by side, and its
screenshot shows an acrostic (--acrostic).
"""

import argparse
import statistics
import sys

from gan_tf import commands
from gan_tf.play import pictures
from gan_tf.play import texts
from tests import browser


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.play_timing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint-dir", default="checkpoints")
    parser.add_argument("--export", default=None, metavar="DIR")
    parser.add_argument("--clicks", type=int, default=10, help="Class clicks to time (default: %(default)s).")
    parser.add_argument("--upload", default=None, metavar="PICTURE", help="Read this picture instead of a drawn 7.")
    parser.add_argument("--screenshot", default=None, metavar="PNG", help="Also save a screenshot of the page.")
    parser.add_argument("--acrostic", default="春夏秋冬", help="A text run's screenshot: (default: %(default)s).")
    args = parser.parse_args(argv)
    functions, source = commands.play_functions(args.checkpoint_dir, None, args.export)
    if isinstance(functions, texts.TextWriters):
        return text_timing(functions, source, args)
    with browser.serving(functions, source) as url, browser.chromium() as chromium:
        page = browser.Page(chromium, url)
        # A run without classes has no class buttons: its clicks ask for new styles.
        button = (
            (lambda click: f"#label-{click % functions.num_labels}")
            if pictures.asks_for_classes(functions)
            else (lambda click: "#new-styles")
        )
        clicks = []
        for click in range(args.clicks):
            page.act(lambda tab, click=click: tab.click(button(click)))
            clicks.append(page.last_update_milliseconds())
        readings = []
        for _ in range(max(3, args.clicks // 2)):
            if args.upload:
                page.page.set_input_files("#upload", [])  # Choosing the same file again is a change.
                page.act(lambda tab: tab.set_input_files("#upload", args.upload))
            else:
                page.page.click("#clear")  # Not an update: no server call.
                page.draw(browser.SEVEN)
                page.act(lambda tab: tab.click("#read"))
            readings.append(page.last_update_milliseconds())
        if args.screenshot:
            page.act(lambda tab: tab.click(button(7)))
            page.act(lambda tab: tab.click("#morph-button"))
            page.page.screenshot(path=args.screenshot, full_page=True)
        errors = page.console_errors
    print(f"{source}, headless Chromium on 127.0.0.1")
    print("a click's grid of 16 (with its row of ten), ms: " + ", ".join(f"{value:.0f}" for value in clicks))
    print(
        f"{'the picture' if args.upload else 'a drawn 7'} read and redrawn, ms: "
        + ", ".join(f"{value:.0f}" for value in readings)
    )
    print(f"median: {statistics.median(clicks):.0f} ms a click, {statistics.median(readings):.0f} ms a reading")
    return finished(args, errors)


def text_timing(functions, source, args):
    """The text page: New texts pressed --clicks times, each update's time, and the screenshot."""
    with browser.serving(functions, source) as url, browser.chromium() as chromium:
        page = browser.Page(chromium, url, updates_at_load=1)
        clicks = []
        for _ in range(args.clicks):
            page.act(lambda tab: tab.click("#new-texts"))
            clicks.append(page.last_update_milliseconds())
        if args.screenshot:
            page.page.fill("#seed", "0")
            page.page.fill("#acrostic", args.acrostic)
            page.act(lambda tab: tab.click("#write"))
            page.page.screenshot(path=args.screenshot, full_page=True)
        errors = page.console_errors
    print(f"{source}, headless Chromium on 127.0.0.1")
    print(
        f"New texts ({texts.TEXTS} a model, {len(functions.models)} models), ms: "
        + ", ".join(f"{v:.0f}" for v in clicks)
    )
    print(f"median: {statistics.median(clicks):.0f} ms a press")
    return finished(args, errors)


def finished(args, errors):
    """The last lines of either timing, and its exit status: 1 when the page logged console errors."""
    if args.screenshot:
        print(f"wrote {args.screenshot}")
    if errors:
        print(f"console errors: {errors}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
