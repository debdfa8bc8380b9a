"""tf.distribute on the CPU: mirrored replicas match one device, and a two-process multi-worker run trains.

Both run in processes of their own: the logical CPUs and a multi-worker cluster must be set up before
TensorFlow starts, which it already has in the test process.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest

from gan_tf.runtime import distribute
from gan_tf.runtime import errors
from tests.conftest import write_mnist_npz

pytestmark = pytest.mark.slow  # Every test here runs python -m gan_tf in processes of its own.

ROOT = pathlib.Path(__file__).resolve().parent.parent
MIRRORED_TOLERANCE = 1e-5  # Float32 sums taken in another order: replicas add two half-batch gradients.


def python(args, env=None, timeout=300):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", **(env or {})}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout
    )


def test_mirrored_on_two_logical_cpus_gives_the_weights_of_one_device():
    result = python(["-m", "tests.mirrored_run"])
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["replicas"] == 2 and figures["steps"] == [4, 4]
    # BatchNormalization is synchronized, so both replicas normalise with the global batch's statistics.
    assert figures["max_difference"] < MIRRORED_TOLERANCE


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("localhost", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_two_worker_run_on_localhost_trains_and_only_the_chief_writes(tmp_path):
    data = write_mnist_npz(tmp_path / "mnist.npz", train_count=64)
    workers = [f"localhost:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        command = [
            sys.executable,
            "-m",
            "gan_tf",
            "train",
            "--strategy",
            "multiworker",
            "--preset",
            "tiny",
            "--epochs",
            "1",
            "--data",
            str(data),
            "--checkpoint-dir",
            str(tmp_path / f"worker{index}" / "checkpoints"),
            "--output-dir",
            str(tmp_path / f"worker{index}" / "outputs"),
        ]
        environment = {**os.environ, "TF_CONFIG": tf_config, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
        processes.append(
            subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-2000:]
    assert "strategy: multiworker, 2 replicas, chief" in outputs[0]
    assert "strategy: multiworker, 2 replicas, not the chief" in outputs[1]
    assert all("epoch 1/1" in output for output in outputs)  # Both trained, in step with each other.

    chief, other = tmp_path / "worker0", tmp_path / "worker1"
    assert (chief / "checkpoints" / "checkpoint").is_file() and list((chief / "checkpoints").glob("ckpt-*.index"))
    assert (chief / "outputs" / "training.gif").is_file()
    assert not list((other / "checkpoints").glob("ckpt-*")) and not (other / "checkpoints" / "checkpoint").exists()
    assert not (other / "outputs" / "frames").exists() or not list((other / "outputs" / "frames").iterdir())


def test_multiworker_without_tf_config_is_one_clear_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(errors.UserError, match="needs TF_CONFIG"):
        distribute.make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
    with pytest.raises(errors.UserError, match="TF_CONFIG is not a worker cluster"):
        distribute.make_strategy("multiworker")
