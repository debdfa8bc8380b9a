"""make play's web server: page.html, and the pictures of gan_tf/play/pictures.py as PNG answers; on a text run,
text_page.html, and the texts of gan_tf/play/texts.py as JSON.

Python's own http.server, on 127.0.0.1 unless told otherwise. Every answer is computed from the
numbers in its request; no request names a file, and nothing is written. A bad request gets a JSON
{"error": "..."} that the page shows, and the server goes on serving.

  GET  /                    the page
  GET  /api/info            what the run can do: its labels and their names, its pictures' shape, the number
                            of styles, sliders and morph steps
  GET  /api/grid            seed, label (optional): STYLES new styles of a class, a PNG
  GET  /api/every-label     seed, style, offset0..offset3: one style drawing every class, a PNG
  GET  /api/morph           seed, from, to, label_from and label_to (optional): one style (and class) into another
  POST /api/read            a picture's bytes: the encoder's reading and G(E(x)), JSON with two PNG data URLs
On a text run:
  GET  /api/info            its models, classes, longest text and temperature range
  GET  /api/write           model (lm or gan), seed, temperature, prompt, acrostic, label (optional): {"texts": [...]}
"""

import base64
import errno
import http.server
import json
import pathlib
import socket
import threading
import urllib.parse

from gan_tf import export
from gan_tf.play import pictures
from gan_tf.play import texts
from gan_tf.runtime import errors

PAGE = pathlib.Path(__file__).with_name("page.html")
TEXT_PAGE = pathlib.Path(__file__).with_name("text_page.html")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_SEED = 2**31 - 1


class PlayServer(http.server.ThreadingHTTPServer):
    """Serves the page over one run's functions (export.Functions); one picture is computed at a time."""

    daemon_threads = True

    def __init__(self, functions, host="127.0.0.1", port=8000, source=""):
        self.functions, self.source = functions, source
        self.lock = threading.Lock()  # TensorFlow calls one after the other: a student's page, not a service.
        not_here = errors.UserError(
            f"--host {host} is not an address of this machine: use 127.0.0.1 (this machine "
            f"only) or 0.0.0.0 (every network it is on)."
        )
        try:
            super().__init__((host, port), Handler)
        except socket.gaierror:
            raise not_here from None
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                raise not_here from None
            if error.errno == errno.EADDRINUSE:
                raise errors.UserError(
                    f"port {port} on {host} is in use (is make play already running?): stop that "
                    f"program, or pass another --port."
                ) from None
            raise errors.UserError(
                f"cannot serve on {host}:{port} ({error.strerror}): pass another --host or "
                f"--port (ports below 1024 need root)."
            ) from None

    @property
    def url(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def writes_texts(self):
        return isinstance(self.functions, texts.TextWriters)

    def info(self):
        functions = self.functions
        if self.writes_texts:
            return {
                "models": functions.models,
                "model_names": texts.NAMES,
                "class_names": list(functions.class_names),
                "longest_text": functions.longest_text,
                "texts": texts.TEXTS,
                "temperatures": texts.TEMPERATURES,
                "source": self.source,
            }
        return {
            "label": functions.label_name,
            "num_labels": functions.num_labels,
            "class_names": list(functions.class_names),
            "digits": functions.preparation == export.MNIST_DIGITS,
            "picture_shape": list(functions.picture_shape),
            "every_label": [int(label) for label in pictures.labels_in_a_row(functions)],
            "styles": pictures.STYLES,
            "sliders": pictures.DIRECTIONS,
            "slider_range": pictures.SLIDER_RANGE,
            "morph_steps": pictures.MORPH_STEPS,
            "encoder": functions.encode is not None,
            "source": self.source,
        }


class BadRequest(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class Handler(http.server.BaseHTTPRequestHandler):
    """One request: its path picks the picture, its query gives the numbers."""

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        routes = {"/": self.page, "/api/info": self.info}
        if self.server.writes_texts:
            routes["/api/write"] = self.write
        else:
            routes.update({"/api/grid": self.grid, "/api/every-label": self.every_label, "/api/morph": self.morph})
        self.answer(routes.get(url.path), query)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        self.answer(self.read if url.path == "/api/read" else None, {})

    def answer(self, route, query):
        try:
            if route is None:
                raise BadRequest(f"there is no {self.command} {urllib.parse.urlsplit(self.path).path} here.", 404)
            content_type, body = route(query)
            status = 200
        except (BadRequest, errors.UserError) as error:
            status = getattr(error, "status", 400)
            content_type, body = "application/json", json.dumps({"error": str(error)}).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        """Quiet: the terminal shows the address to open, not a line per picture."""

    # The routes: each returns (content type, body).

    def page(self, query):
        return "text/html; charset=utf-8", (TEXT_PAGE if self.server.writes_texts else PAGE).read_bytes()

    def write(self, query):
        writers = self.server.functions
        model = query.get("model", [""])[0]
        if model not in writers.models:
            raise BadRequest(f"model={model!r}: give one of {', '.join(writers.models)}.")
        low, high = texts.TEMPERATURES
        label = None
        if query.get("label"):
            if not writers.class_names:
                raise BadRequest("this run has no classes: drop label.")
            label = self.number(query, "label", 0, len(writers.class_names) - 1)
        arguments = (
            self.number(query, "seed", 0, MAX_SEED),
            self.number(query, "temperature", low, high, 1.0, float),
            query.get("prompt", [""])[0],
            query.get("acrostic", [""])[0],
            label,
        )
        with self.server.lock:
            written = writers.write(model, *arguments)
        return "application/json", json.dumps({"texts": written}, ensure_ascii=False).encode()

    def info(self, query):
        return "application/json", json.dumps(self.server.info()).encode()

    def grid(self, query):
        label = self.label(query, "label")
        return self.picture(pictures.grid, self.number(query, "seed", 0, MAX_SEED), label)

    def every_label(self, query):
        offsets = [
            self.number(query, f"offset{k}", -pictures.SLIDER_RANGE, pictures.SLIDER_RANGE, 0.0, float)
            for k in range(pictures.DIRECTIONS)
        ]
        return self.picture(
            pictures.every_label,
            self.number(query, "seed", 0, MAX_SEED),
            self.number(query, "style", 0, pictures.STYLES - 1),
            offsets,
        )

    def morph(self, query):
        return self.picture(
            pictures.morph,
            self.number(query, "seed", 0, MAX_SEED),
            self.number(query, "from", 0, pictures.STYLES - 1),
            self.number(query, "to", 0, pictures.STYLES - 1),
            self.label(query, "label_from"),
            self.label(query, "label_to"),
        )

    def read(self, query):
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise BadRequest("send the picture as the request's body, with its Content-Length.", 411)
        if int(length) > MAX_UPLOAD_BYTES:
            self.discard(int(length))  # Read before answering, so the browser gets the answer, not a reset.
            raise BadRequest(
                f"the picture is {int(length) / 2**20:.1f} MB: send one of at most {MAX_UPLOAD_BYTES // 2**20} MB.", 413
            )
        content = self.rfile.read(int(length))
        with self.server.lock:
            reading = pictures.read_picture(self.server.functions, content)
        answer = {
            "label": reading["label"],
            "probability": reading["probability"],
            "picture": data_url(reading["picture"]),
            "redrawn": data_url(reading["redrawn"]),
        }
        return "application/json", json.dumps(answer).encode()

    # Helpers.

    def discard(self, length, most=64 * MAX_UPLOAD_BYTES):
        remaining = min(length, most)
        while remaining > 0:
            chunk = self.rfile.read(min(65536, remaining))
            if not chunk:
                break
            remaining -= len(chunk)

    def picture(self, draw, *numbers):
        with self.server.lock:
            picture = draw(self.server.functions, *numbers)
        return "image/png", pictures.png(picture)

    def number(self, query, name, low, high, default=None, kind=int):
        """The query's `name` as a `kind` from `low` to `high`, or `default` when absent (None: required)."""
        values = query.get(name)
        if not values:
            if default is None:
                raise BadRequest(f"{name} is missing: give it a value from {low} to {high}.")
            return default
        try:
            value = kind(values[0])
        except ValueError:
            raise BadRequest(f"{name}={values[0]!r} is not a {'whole number' if kind is int else 'number'}.") from None
        if not low <= value <= high:  # NaN is in no range.
            raise BadRequest(f"{name}={values[0]} is out of range: give a value from {low} to {high}.")
        return value

    def label(self, query, name):
        """An optional class: None when absent. Raises BadRequest when the run cannot be asked for one."""
        if not query.get(name):
            return None
        if not pictures.asks_for_classes(self.server.functions):
            raise BadRequest("this run was trained with --conditional off, so it cannot be asked for a class.")
        return self.number(query, name, 0, self.server.functions.num_labels - 1)


def data_url(picture):
    """A uint8 picture as a PNG data: URL, for an <img> of a JSON answer."""
    return "data:image/png;base64," + base64.b64encode(pictures.png(picture)).decode()


def serve(functions, host, port, source, log=print):
    """Serves the page until Ctrl-C. Raises UserError when the address cannot be used."""
    server = PlayServer(functions, host, port, source)
    log(f"serving {source} on {server.url} : open it in a browser (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
