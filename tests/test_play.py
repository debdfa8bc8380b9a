"""make play without a browser: the pictures it computes, its answers to bad requests, and its command line."""

import base64
import io
import json
import socket
import urllib.error
import urllib.request

import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

from gan_tf import __main__ as cli
from gan_tf import data
from gan_tf import export
from gan_tf import generate
from gan_tf import images
from gan_tf.play import pictures
from gan_tf.play import server
from gan_tf.runtime import errors
from tests import browser


@pytest.fixture
def functions(tiny_functions):
    return tiny_functions


@pytest.fixture(scope="module")
def url(tiny_functions):
    """A play server over tiny_run on a free port, for the module's tests; its address."""
    with browser.serving(tiny_functions, "tiny run") as address:
        yield address


def get(url, data=None, headers=None):
    """(status, content type, body) of a request; refusals too."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def png_bytes(picture):
    buffer = io.BytesIO()
    PIL.Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_grid_is_the_generators_sevens_for_that_seed(functions):
    config, generator = functions.config, functions.generator  # export.Serving of tiny_run's latest checkpoint.
    latent = tf.random.stateless_normal((pictures.STYLES, config.latent_dim), seed=(5, pictures.STREAM))
    sevens = generate.draw(generator, generate.models.generator_inputs(config, latent, np.full(16, 7)))
    assert np.array_equal(pictures.grid(functions, 5, label=7), images.grid(sevens, columns=4)[..., 0])
    assert not np.array_equal(pictures.grid(functions, 6, label=7), pictures.grid(functions, 5, label=7))


def test_one_style_writes_every_digit_and_the_sliders_move_it(functions):
    still = pictures.every_label(functions, 0, 3)
    assert still.shape == images.grid(np.zeros((10, 28, 28, 1), np.uint8), columns=10).shape[:2]
    one_style_ten_digits = functions.draw(np.repeat(pictures.styles(functions, 0)[[3]], 10, axis=0), np.arange(10))
    assert np.array_equal(still, images.grid(one_style_ten_digits, columns=10)[..., 0])
    assert not np.array_equal(pictures.every_label(functions, 0, 3, [3.0, 0, 0, 0]), still)
    directions = pictures.directions(functions.latent_dim)
    assert np.allclose(directions @ directions.T, np.eye(pictures.DIRECTIONS), atol=1e-6)


def test_a_morph_starts_and_ends_at_its_two_digits(functions):
    strip = pictures.morph(functions, 0, 2, 9, label_from=1, label_to=7)
    all_styles = pictures.styles(functions, 0)
    ends = functions.draw(all_styles[[2, 9]], [1, 7])
    frames = strip[2:30, 2:].reshape(28, pictures.MORPH_STEPS, 30)[:, :, :28].transpose(1, 0, 2)
    assert np.array_equal(frames[0], ends[0]) and np.array_equal(frames[-1], ends[1])


def test_a_drawing_is_cropped_scaled_and_centred_as_mnist_digits_are():
    drawing = np.full((200, 300), 255, np.uint8)  # Dark ink on white paper, off to one side.
    drawing[20:120, 30:80] = 0
    digit = pictures.as_mnist_digit(drawing)
    # The 100 x 50 block of ink, inverted to white on black, scaled to 20 x 10 (its longer side 20) and
    # placed with its centre of mass (9.5, 4.5) at the middle of 28 x 28, 13.5: rows 4-23, columns 9-18.
    expected = np.zeros((28, 28), np.uint8)
    expected[4:24, 9:19] = 255
    assert digit.dtype == np.uint8
    np.testing.assert_array_equal(digit, expected)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the picture is empty"),
        (b"not a picture at all", "not a picture this page can read"),
        (png_bytes(np.full((40, 40), 200, np.uint8))[:60], "not a picture this page can read"),  # Cut short.
        (png_bytes(np.zeros((40, 40), np.uint8)), "the picture is blank"),
    ],
)
def test_a_picture_that_cannot_be_read_is_refused(functions, content, message):
    with pytest.raises(errors.UserError, match=message):
        pictures.read_picture(functions, content)


def test_a_picture_for_a_colour_run_is_scaled_and_centre_cropped_as_its_training_pictures(tiny_colour_run):
    functions = export.Loaded(tiny_colour_run[0] / "export")
    photo = np.zeros((48, 64, 3), np.uint8)  # Wider than high: the sides are cropped.
    photo[:, :8] = (255, 0, 0)  # A red edge, cropped away ...
    photo[8:40, 16:48] = (0, 200, 100)  # ... and a green square in the middle, kept.
    reading = pictures.read_picture(functions, png_bytes(photo))
    expected = data.fit(PIL.Image.fromarray(photo), 32)
    assert reading["picture"].shape == (32, 32, 3) and np.array_equal(reading["picture"], expected)
    assert reading["picture"][..., 0].max() < 40 and reading["picture"][16, 16, 1] == 200
    latent, logits = functions.read(expected[np.newaxis])
    assert reading["label"] == int(np.argmax(logits[0]))
    assert np.array_equal(reading["redrawn"], functions.draw(latent, [reading["label"]])[0])


def test_a_colour_run_is_asked_for_its_classes_by_index(tiny_colour_run):
    functions = export.Loaded(tiny_colour_run[0] / "export")
    assert list(pictures.labels_in_a_row(functions)) == [0, 1, 2]
    dogs = pictures.grid(functions, 0, label=1)
    latent = pictures.styles(functions, 0)
    assert dogs.shape == (4 * 34 + 2, 4 * 34 + 2, 3)
    assert np.array_equal(dogs, pictures.tile(functions.draw(latent, np.full(16, 1)), columns=4))
    with browser.serving(functions, "colour") as url:
        info = json.loads(get(url + "api/info")[2])
        assert (info["label"], info["class_names"], info["digits"]) == ("classes", ["cat", "dog", "ship"], False)
        assert info["picture_shape"] == [32, 32, 3] and info["every_label"] == [0, 1, 2]
        answer = get(url + "api/grid?seed=0&label=3")
        assert (
            answer[0] == 400 and "label=3 is out of range: give a value from 0 to 2" in json.loads(answer[2])["error"]
        )


def test_a_huge_picture_is_refused_before_it_is_decoded():
    huge = io.BytesIO()
    PIL.Image.new("1", (5000, 5000)).save(huge, format="PNG")  # 25 megapixels in a few kB.
    with pytest.raises(errors.UserError, match="5000 x 5000 pixels, too big"):
        pictures.decode_picture(huge.getvalue())


def test_the_server_answers_pictures_and_the_page(url, tiny_functions):
    status, kind, body = get(url + "api/grid?seed=3&label=7")
    assert status == 200 and kind == "image/png" and PIL.Image.open(io.BytesIO(body)).size == (122, 122)
    status, kind, body = get(url)
    assert status == 200 and kind.startswith("text/html") and b'<h1 id="title">' in body
    info = json.loads(get(url + "api/info")[2])
    assert info["label"] == "digits" and info["every_label"] == list(range(10)) and info["encoder"] is True
    drawing = np.zeros((280, 280), np.uint8)
    drawing[40:240, 130:150] = 255
    answer = json.loads(get(url + "api/read", data=png_bytes(drawing))[2])
    expected = pictures.read_picture(
        tiny_functions, png_bytes(drawing)
    )  # What the page shows is the library's reading.
    assert answer["label"] == expected["label"] and answer["probability"] == pytest.approx(expected["probability"])
    prefix = "data:image/png;base64,"
    assert answer["redrawn"].startswith(prefix) and answer["picture"].startswith(prefix)
    for name in ("picture", "redrawn"):
        shown = PIL.Image.open(io.BytesIO(base64.b64decode(answer[name][len(prefix) :])))
        np.testing.assert_array_equal(np.asarray(shown), expected[name])


@pytest.mark.parametrize(
    "path, status, message",
    [
        ("api/grid?seed=-1", 400, "seed=-1 is out of range"),
        ("api/grid?seed=x", 400, "seed='x' is not a whole number"),
        ("api/grid", 400, "seed is missing"),
        ("api/grid?seed=1&label=10", 400, "label=10 is out of range"),
        ("api/every-label?seed=1&style=2&offset0=nan", 400, "offset0=nan is out of range"),
        ("api/morph?seed=1&from=0&to=16", 400, "to=16 is out of range"),
        ("../../etc/passwd", 404, "there is no GET"),
        ("gan_tf/play/page.html", 404, "there is no GET"),
    ],
)
def test_a_bad_request_gets_a_message_and_the_server_goes_on(url, path, status, message):
    answer = get(url + path)
    assert answer[0] == status and answer[1] == "application/json"
    assert message in json.loads(answer[2])["error"]
    assert get(url + "api/grid?seed=0")[0] == 200


def test_an_upload_too_big_or_not_a_picture_gets_a_message(url):
    status, _, body = get(url + "api/read", data=b"x" * (server.MAX_UPLOAD_BYTES + 1))
    assert status == 413 and "at most 5 MB" in json.loads(body)["error"]
    status, _, body = get(url + "api/read", data=b"GIF89a but not really")
    assert status == 400 and "not a picture" in json.loads(body)["error"]
    assert get(url + "api/info")[0] == 200


def test_the_command_line_refuses_a_missing_run_a_port_in_use_and_a_bad_flag(tiny_run, tmp_path, capsys):
    _, root = tiny_run

    def error_of(*argv):
        assert cli.main(["play", *map(str, argv)]) == 2
        last_line = capsys.readouterr().err.strip().splitlines()[-1]
        assert last_line.startswith("error: ")
        return last_line

    assert "does not exist: train first" in error_of("--checkpoint-dir", tmp_path / "none")
    assert "is not a gan_tf export" in error_of("--export", tmp_path)
    assert "--port: must be from 0 to 65,535, got 70000" in error_of("--port", "70000")
    assert "--host 192.0.2.1 is not an address of this machine" in error_of(  # A documentation-only address.
        "--checkpoint-dir", root / "checkpoints", "--host", "192.0.2.1", "--port", 0
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert f"port {port} on 127.0.0.1 is in use" in error_of(
            "--checkpoint-dir", root / "checkpoints", "--port", port
        )
