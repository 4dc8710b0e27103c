"""The implementation of :mod:`helpers.datasets`, the course's datasets, offline first.

The public name is ``helpers.datasets`` (``from helpers.datasets import load_mnist``): the
notebooks, the README and the rest of the project import that, and it re-exports exactly
this package's ``__all__``. This package is where the code lives; import its submodules
directly only to work on or test their internals.

- ``store``: the registry of files, URLs and hashes; where the data is, the project's one
  resolver (``data_folders``, ``default_data_dir``, ``chosen_data_dir``: the only reader of
  ``COURSE_DATA_DIR`` and the only definition of the course's ``data/`` folder); the one
  lookup (those folders, a classroom mirror, the origin); downloads on pooch; ``SHA256SUMS``;
- ``images``: MNIST and Fashion-MNIST, as ``keras.datasets`` returns them;
- ``imdb``: IMDB, as Keras returns it but in far less memory; its word index and text;
- ``corpora``: chapter 8's Korean ChatbotData and KLUE-NER, and a grouped split;
- ``nsmc``: chapter 9's Korean movie reviews, the one dataset the project carries;
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
from helpers.data.nsmc import NSMC_LABELS, load_nsmc
from helpers.data.store import (
    DatasetError,
    carried_datasets,
    chosen_data_dir,
    data_folders,
    default_data_dir,
    fetch,
    read_sums,
    verify,
    write_sums,
)

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
    "load_nsmc",
    "NSMC_LABELS",
    "fetch",
    "verify",
    "read_sums",
    "write_sums",
    "make_server",
    "chosen_data_dir",
    "data_folders",
    "default_data_dir",
    "carried_datasets",
]
