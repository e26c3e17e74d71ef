"""Each example runs (the training one on a tiny subset)."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def run(script, *args):
    done = subprocess.run([sys.executable, os.path.join(HERE, script), *args], check=True,
                          capture_output=True, text=True, timeout=300)
    return done.stdout


def test_rea_nb201():
    assert len(open(os.path.join(HERE, "rea_nb201.py")).read().splitlines()) < 10
    assert "REA, CIFAR-10: mean test accuracy 9" in run("rea_nb201.py")


def test_train_fashion_mnist():
    pytest.importorskip("torch")
    if not os.path.isdir("/usr/share/datasets/fashion-mnist") and "FASHION_MNIST" not in os.environ:
        pytest.skip("Fashion-MNIST is not installed (dataset-fashion-mnist)")
    out = run("train_fashion_mnist.py", "--candidates", "3", "--train", "256", "--test", "128",
              "--channels", "4")
    assert "best of 3 trained cells" in out


def test_nsga2_latency(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "front.png"
    out = run("nsga2_latency.py", "--budget", "200", "--out", str(png))
    assert "of the exact front's" in out and png.stat().st_size > 1000
