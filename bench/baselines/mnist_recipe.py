"""The source material's MNIST recipe, reproduced on the course's data (a benchmark baseline).

Dense 20-20-10 (ReLU, softmax), plain SGD, batches of 20, 10 epochs, and the
recipe's own 70/30 split: take/skip after a default shuffle (which leaks, see
chapter 3). Pixels are scaled the recipe's way, `x / 255.0` (float64). Only
what Keras 3 no longer accepts was changed: `Flatten(input_shape=...)` became
`keras.Input(...)` + `Flatten()`. Prints one JSON line with the results.
"""

import json
import resource
import sys

import helpers

helpers._import_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from helpers.datasets import load_mnist  # noqa: E402

helpers.seed_everything(42)
(x_train, y_train), (x_test, y_test) = load_mnist()
x_train, x_test = x_train / 255.0, x_test / 255.0

ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000)
train_size = int(len(x_train) * 0.7)
train_ds = ds.take(train_size).batch(20)
val_ds = ds.skip(train_size).batch(20)

model = keras.Sequential(
    [
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(20, activation="relu"),
        layers.Dense(20, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]
)
model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=10, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)

peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(
    json.dumps(
        {"test_accuracy": float(accuracy), "peak_mb": peak_mb, "training_images": train_size}
    )
)
sys.stdout.flush()
