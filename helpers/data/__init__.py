"""The course's datasets, offline first: ``from helpers.datasets import load_mnist`` (the
notebooks' name for this package) or ``from helpers.data import load_mnist``.

- ``store``: the registry of files, URLs and hashes; the one lookup (``COURSE_DATA_DIR``,
  ``data/``, a classroom mirror, the origin), downloads on pooch, ``SHA256SUMS``;
- ``images``: MNIST and Fashion-MNIST, as ``keras.datasets`` returns them;
- ``imdb``: IMDB, as Keras returns it but in far less memory; its word index and text;
- ``corpora``: chapter 8's Korean ChatbotData and KLUE-NER, and a grouped split;
- ``cli``: ``python -m helpers.datasets fetch | verify | serve``.
"""

from helpers.data.cli import make_server
from helpers.data.corpora import (
    CHATBOT_LABELS,
    KLUE_ENTITY_TYPES,
    data_file,
    grouped_split,
    load_chatbot_data,
    load_klue_ner,
    split_klue_ner,
)
from helpers.data.images import load_fashion_mnist, load_mnist
from helpers.data.imdb import decode_review, encode_review, get_imdb_word_index, load_imdb, tokenize
from helpers.data.store import DatasetError, fetch, read_sums, verify, write_sums

__all__ = [
    "DatasetError",
    "load_mnist",
    "load_fashion_mnist",
    "load_imdb",
    "get_imdb_word_index",
    "decode_review",
    "tokenize",
    "encode_review",
    "load_chatbot_data",
    "load_klue_ner",
    "grouped_split",
    "split_klue_ner",
    "data_file",
    "CHATBOT_LABELS",
    "KLUE_ENTITY_TYPES",
    "fetch",
    "verify",
    "read_sums",
    "write_sums",
    "make_server",
]
