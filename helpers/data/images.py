"""MNIST and Fashion-MNIST, returned exactly as ``keras.datasets.*.load_data()`` returns them."""

from __future__ import annotations

import gzip
import zipfile

import numpy as np

from helpers.data.store import FILES, announce, locate, unreadable

# What a damaged file raises while it is read.
READ_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile)


def load_mnist():
    """Load MNIST: ``(x_train, y_train), (x_test, y_test)``, uint8, as Keras does.

    Images are ``(n, 28, 28)`` uint8 in 0..255; labels are ``(n,)`` uint8 digits.
    """
    label, folder = locate("mnist", "MNIST")
    path = folder / "mnist.npz"
    try:
        with np.load(path, allow_pickle=False) as f:
            result = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except READ_ERRORS as err:
        raise unreadable(path, label, err) from None
    announce("MNIST", len(result[0][0]), len(result[1][0]), label, "images")
    return result


def load_fashion_mnist():
    """Load Fashion-MNIST: ``(x_train, y_train), (x_test, y_test)``, uint8, as Keras does."""
    label, folder = locate("fashion_mnist", "Fashion-MNIST")
    arrays = []
    for rel in FILES["fashion_mnist"]:  # IDX files: an 8-byte (labels) or 16-byte header
        path = folder / rel
        try:
            with gzip.open(path, "rb") as fh:
                data = np.frombuffer(fh.read(), np.uint8, offset=8 if "labels" in rel else 16)
            if "images" in rel:
                data = data.reshape(len(arrays[-1]), 28, 28)  # each follows its labels
        except READ_ERRORS as err:
            raise unreadable(path, label, err) from None
        arrays.append(data)
    y_train, x_train, y_test, x_test = arrays
    announce("Fashion-MNIST", len(x_train), len(x_test), label, "images")
    return (x_train, y_train), (x_test, y_test)
