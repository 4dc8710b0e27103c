"""The source material's IMDB recipe, reproduced on the course's data (a benchmark baseline).

Multi-hot vectors of the 10,000 most frequent words built as NumPy float64
matrices for the whole training and test sets, Dense 16-16-1, RMSprop,
binary cross-entropy, batches of 512, 20 epochs, 10,000 reviews held out for
validation. This is the recipe whose kernel dies on an 8 GB laptop; chapter 4
teaches the same model in a fraction of the memory. Prints one JSON line.
"""

import json
import resource
import sys

import numpy as np

import helpers

helpers._import_tensorflow_quietly()
import keras  # noqa: E402
from keras import layers  # noqa: E402

from helpers.datasets import load_imdb  # noqa: E402

helpers.seed_everything(42)
(train_data, train_labels), (test_data, test_labels) = load_imdb(num_words=10000)


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))  # float64, as in the recipe
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.0
    return results


x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)
y_train = np.asarray(train_labels).astype("float32")
y_test = np.asarray(test_labels).astype("float32")

x_val, partial_x_train = x_train[:10000], x_train[10000:]
y_val, partial_y_train = y_train[:10000], y_train[10000:]

model = keras.Sequential(
    [
        keras.Input(shape=(10000,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(
    partial_x_train,
    partial_y_train,
    epochs=20,
    batch_size=512,
    validation_data=(x_val, y_val),
    verbose=0,
)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)

peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"test_accuracy": float(accuracy), "peak_mb": peak_mb}))
sys.stdout.flush()
