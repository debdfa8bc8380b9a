"""The loaders (MNIST and its failover, tensorflow-datasets names, folders of pictures) and the tf.data pipeline."""

import http.server
import socket
import threading
import time

import numpy as np
import PIL.Image
import pytest
import tensorflow_datasets as tfds

from gan_tf import data
from gan_tf import mnist
from gan_tf.runtime import errors
from tests.conftest import synthetic_digits
from tests.conftest import write_mnist_npz


def test_npz_loads_both_splits(mnist_npz):
    train = data.load(str(mnist_npz), "train")
    test = data.load(str(mnist_npz), "test")
    assert train.images.shape == (40, 28, 28, 1) and train.images.dtype == np.uint8
    assert test.images.shape == (20, 28, 28, 1) and test.labels.shape == (20,)
    assert str(mnist_npz) in train.source


def test_environment_variable_names_the_file(mnist_npz, monkeypatch):
    monkeypatch.setenv(data.MNIST_ENV_VAR, str(mnist_npz))
    assert data.load_mnist("train").images.shape == (40, 28, 28, 1)


def test_missing_npz_says_how_to_provide_data(tmp_path):
    with pytest.raises(errors.UserError, match="does not exist.*--data PATH"):
        data.load(str(tmp_path / "nope.npz"), "train")


def test_wrong_npz_layout_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", pictures=np.zeros((3, 28, 28)))
    with pytest.raises(errors.UserError, match="not a Keras-layout mnist.npz"):
        data.load(str(tmp_path / "other.npz"), "train")


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No GAN_TF_MNIST, an empty tensorflow-datasets directory, no network, and an empty Keras cache."""
    monkeypatch.delenv(data.MNIST_ENV_VAR, raising=False)
    monkeypatch.setattr(data, "network_reachable", lambda address: False)
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path / "keras" / "mnist.npz")
    return tmp_path


def test_offline_falls_back_to_the_keras_cache_in_seconds(offline):
    (offline / "keras").mkdir()
    write_mnist_npz(offline / "keras" / "mnist.npz")
    messages = []
    start = time.perf_counter()
    digits = data.load_mnist("train", tfds_data_dir=offline / "tfds", log=messages.append)
    assert time.perf_counter() - start < 10
    assert digits.images.shape == (40, 28, 28, 1)
    assert "cannot be reached" in messages[0]


def test_offline_without_any_copy_says_how_to_provide_data(offline):
    with pytest.raises(errors.UserError, match="MNIST not found.*--data PATH.*GAN_TF_MNIST"):
        data.load_mnist("train", tfds_data_dir=offline / "tfds", log=lambda line: None)


def test_tensorflow_datasets_copy_is_used_when_prepared(offline):
    with tfds.testing.mock_data(num_examples=12):
        digits = data.load_mnist("train", tfds_data_dir=offline / "tfds")
    assert digits.images.shape == (12, 28, 28, 1) and digits.images.dtype == np.uint8
    assert digits.source.startswith("tensorflow-datasets")


def test_network_probe_gives_up_on_a_server_that_never_answers():
    with socket.socket() as silent:  # Accepts connections (through its backlog) but never replies.
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.perf_counter()
        assert not data.network_reachable(f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.5)
        assert time.perf_counter() - start < 2


def test_network_probe_accepts_any_http_answer():
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    with http.server.HTTPServer(("127.0.0.1", 0), NotFound) as server:
        threading.Thread(target=server.handle_request, daemon=True).start()
        assert data.network_reachable(f"http://127.0.0.1:{server.server_port}/", timeout=5)


def test_pixels_map_to_minus_one_and_one_and_back():
    pixels = np.array([[0, 255], [128, 64]], np.uint8).reshape(1, 2, 2, 1)
    unit = data.to_unit_range(pixels).numpy()
    assert unit.shape == (1, 2, 2, 1) and unit.dtype == np.float32
    assert unit.min() == -1.0 and unit.max() == 1.0
    assert np.array_equal(data.to_uint8(unit), pixels)


def batches_of(*args, **kwargs):
    """Every batch of data.epoch_batches(*args, **kwargs), its parts joined in order."""
    return [batch for part, _ in data.epoch_batches(*args, **kwargs) for batch in part]


def test_epoch_keeps_the_short_last_batch_and_fixed_order():
    digits = synthetic_digits(40)
    dataset = data.image_dataset(digits)
    parts = data.epoch_batches(dataset, batch_size=16, seed=0, epoch=0, latent_dim=8)
    assert [steps for _, steps in parts] == [2, 1]
    # The full batches have a static shape (one compiled step for all of them); the short one its own.
    assert [part.element_spec[0].shape.as_list() for part, _ in parts] == [[16, 28, 28, 1], [None, 28, 28, 1]]
    epoch = batches_of(dataset, batch_size=16, seed=0, epoch=0, latent_dim=8)
    assert [len(images) for images, _, _ in epoch] == [16, 16, 8]
    again = batches_of(dataset, batch_size=16, seed=0, epoch=0, latent_dim=8)
    assert [tuple(tensor.numpy().tobytes() for tensor in batch) for batch in epoch] == [
        tuple(tensor.numpy().tobytes() for tensor in batch) for batch in again
    ]
    assert all(z.shape == (len(b), 8) for b, _, z in epoch)  # Each image comes with its own noise vector.
    # Without tf.data's autotuner, whose sleeping thread made deleting an epoch's iterator wait up to a minute.
    assert [part.options().autotune.enabled for part, _ in parts] == [False, False]


def numbered_digits(count):
    """Digits whose pixels all hold their index, labelled index % 10: each image says where it came from."""
    images = np.arange(count, dtype=np.uint8).reshape(count, 1, 1, 1).repeat(28, 1).repeat(28, 2)
    return data.Pictures(images, (np.arange(count) % 10).astype(np.int32), mnist.DIGIT_NAMES, "numbered")


def test_each_image_keeps_its_label_through_the_shuffle():
    batches = batches_of(data.image_dataset(numbered_digits(40)), 16, seed=0, epoch=0, latent_dim=4)
    images = np.concatenate([b.numpy() for b, _, _ in batches])
    labels = np.concatenate([y.numpy() for _, y, _ in batches])
    indices = np.round((images[:, 0, 0, 0] + 1) * 127.5).astype(int)
    assert not np.array_equal(indices, np.arange(40))  # Shuffled...
    assert labels.dtype == np.int32 and np.array_equal(labels, indices % 10)  # ...each with its own label.


def test_epochs_are_shuffled_differently():
    dataset = data.image_dataset(numbered_digits(40))
    first = np.concatenate([b.numpy() for b, _, _ in batches_of(dataset, 16, seed=0, epoch=0, latent_dim=4)])
    second = np.concatenate([b.numpy() for b, _, _ in batches_of(dataset, 16, seed=0, epoch=1, latent_dim=4)])
    assert not np.array_equal(first, second)
    assert np.array_equal(np.sort(first[:, 0, 0, 0]), np.sort(second[:, 0, 0, 0]))  # Same images, new order.


def test_skipping_images_resumes_the_same_order():
    dataset = data.image_dataset(numbered_digits(40))
    whole = batches_of(dataset, 16, seed=3, epoch=2, latent_dim=4)
    rest = batches_of(dataset, 16, seed=3, epoch=2, latent_dim=4, skip_images=16)
    assert [len(images) for images, _, _ in rest] == [16, 8]
    for part in range(3):  # Images, labels and noise: after the skip, what an uninterrupted epoch has there.
        assert np.array_equal(
            np.concatenate([batch[part] for batch in whole])[16:], np.concatenate([batch[part] for batch in rest])
        )


# --- Folders of pictures, and tensorflow-datasets by name. ---


def save_picture(path, size=(32, 32), colour=(200, 30, 60), mode="RGB"):
    """Writes a small picture of one colour (grey in modes L and LA) in the format its name says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.Image.new("RGB", size, colour).convert(mode).save(path)
    return path


def test_a_flat_folder_of_odd_sizes_and_modes_is_read_grey_at_64_with_junk_passed_over(tmp_path):
    folder = tmp_path / "faces"
    for index in range(20):  # Grey in many ways: modes L and LA, a GIF's palette of greys, odd sizes.
        mode, extension = [("L", ".png"), ("LA", ".png"), ("L", ".gif"), ("L", ".jpg"), ("L", ".bmp"), ("L", ".pgm")][
            index % 6
        ]
        save_picture(folder / f"{index:02d}{extension}", (40 + index, 30), (index * 10,) * 3, mode)
    (folder / ".DS_Store").write_bytes(b"\0\1junk")
    (folder / "README").write_text("my pictures")
    (folder / "zz_broken.jpg").write_bytes(b"not a jpeg")
    messages = []
    train = data.load(str(folder), "train", log=messages.append)
    test = data.load(str(folder), "test", log=lambda line: None)
    assert train.images.shape == (18, 64, 64, 1) and test.images.shape == (2, 64, 64, 1)  # Every tenth held out.
    assert train.class_names == () and not train.labels.any()
    assert messages == [f"data: skipped 1 file that could not be read as a picture, first {folder / 'zz_broken.jpg'}"]
    # Resized by the shorter side and centre-cropped: a one-colour picture stays that colour.
    assert train.images[0].min() == train.images[0].max() == 0 and test.images[0].min() == 90


def test_class_folders_name_the_classes_and_colour_stays_colour(tmp_path):
    for index in range(12):
        save_picture(tmp_path / "pets" / "cats" / f"{index}.webp", colour=(250, 0, 0))
        save_picture(tmp_path / "pets" / "dogs" / "deeper" / f"{index}.ppm", colour=(0, 0, 250))
    save_picture(tmp_path / "pets" / "beside.png")  # Beside the class folders: not used, and said so.
    messages = []
    train = data.load(str(tmp_path / "pets"), "train", log=messages.append)
    assert train.images.shape == (22, 32, 32, 3) and train.class_names == ("cats", "dogs")
    assert (train.images[train.labels == 0][..., 0] > 240).all() and (
        train.images[train.labels == 1][..., 2] > 240
    ).all()
    assert "1 pictures lie beside the class folders" in messages[0]
    assert data.load(str(tmp_path / "pets"), "train", image_size=28, channels=1).images.shape == (22, 28, 28, 1)


def test_train_and_test_folders_are_the_splits_with_the_same_classes(tmp_path):
    for split, count in (("train", 6), ("test", 2)):
        for name in ("a", "b"):
            for index in range(count):
                save_picture(tmp_path / "set" / split / name / f"{index}.png", (28, 28), mode="L")
    train, test = data.load(str(tmp_path / "set"), "train"), data.load(str(tmp_path / "set"), "test")
    assert train.images.shape == (12, 28, 28, 1) and test.images.shape == (4, 28, 28, 1)
    assert test.class_names == ("a", "b") and test.labels.tolist() == [0, 0, 1, 1]
    save_picture(tmp_path / "set" / "test" / "c" / "0.png")
    with pytest.raises(errors.UserError, match="other classes than .*train \\(c\\)"):
        data.load(str(tmp_path / "set"), "test")


def test_a_folder_without_pictures_or_missing_gets_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no pictures")
    with pytest.raises(errors.UserError, match="holds no picture .* that can be read"):
        data.load(str(tmp_path / "empty"), "train")
    with pytest.raises(errors.UserError, match="is not a folder of pictures"):
        data.load_folder(tmp_path / "missing")


def test_a_tensorflow_datasets_name_loads_its_images_classes_and_size():
    with tfds.testing.mock_data(num_examples=12):
        cifar = data.load("cifar10", "train")
        fashion = data.load("fashion_mnist", "test", image_size=32)
    assert cifar.images.shape == (12, 32, 32, 3) and cifar.images.dtype == np.uint8 and len(cifar.class_names) == 10
    assert cifar.labels.dtype == np.int32 and cifar.source.startswith("tensorflow-datasets cifar10 (train")
    assert fashion.images.shape == (12, 32, 32, 1)


def test_an_unknown_or_offline_tensorflow_datasets_name_fails_fast_with_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(errors.UserError, match="no data set named 'cifar11'.*--data"):
        data.load("cifar11", "train")
    monkeypatch.setattr(data, "network_reachable", lambda address: False)
    start = time.perf_counter()
    with pytest.raises(errors.UserError, match="no copy of svhn_cropped and cannot download it.*--data with a folder"):
        data.load_tfds("svhn_cropped", "train", tfds_data_dir=tmp_path, log=lambda line: None)
    assert time.perf_counter() - start < 10
