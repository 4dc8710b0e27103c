"""Korean text for chapter 8: the Hangul font, characters as tokens, BIO tags and entities.

- :func:`use_hangul_font`: registers NanumGothic (shipped by the pinned
  ``koreanize-matplotlib`` package, SIL Open Font Licence) with matplotlib, so
  Hangul renders in figures on a machine with no Korean font installed;
- :func:`has_final_consonant` and :func:`josa`: pick the particle that fits a
  word (을/를, 이/가, 은/는, 과/와, 으로/로);
- :data:`TAGS`, :func:`encode_chars`, :func:`encode_tags`, :func:`decode_tags`:
  characters and BIO tags to padded integer arrays and back;
- :func:`length_batches`: batches of sentences of similar length, padded only as far
  as needed, so a recurrent layer runs fewer steps;
- :func:`bio_spans`, :func:`entities`, :func:`entity_scores`: entity-level
  precision, recall and F1, counted the way ``seqeval``/conlleval count them;
- :func:`entity_confidences`, :func:`confident_entities`: a tagger's entities with
  how sure it is of each, and only the sure ones;
- :func:`highlight_entities`: a tagged sentence as HTML, entities coloured.
"""

from __future__ import annotations

import html
import importlib.util
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "ENTITY_TYPES",
    "ENTITY_NAMES",
    "TAGS",
    "PAD",
    "OOV",
    "hangul_font_path",
    "use_hangul_font",
    "has_final_consonant",
    "josa",
    "char_vocabulary",
    "encode_chars",
    "encode_tags",
    "decode_tags",
    "length_batches",
    "bio_spans",
    "entities",
    "entity_confidences",
    "confident_entities",
    "entity_scores",
    "highlight_entities",
]

ENTITY_TYPES = ("PS", "LC", "OG", "DT", "TI", "QT")
ENTITY_NAMES = {
    "PS": "person 인물",
    "LC": "location 장소",
    "OG": "organisation 기관",
    "DT": "date 날짜",
    "TI": "time 시간",
    "QT": "quantity 수량",
}
PAD, OOV = "<pad>", "<unk>"
# Index 0 is padding (masked), 1 is "O"; then B- and I- of each type.
TAGS = (PAD, "O") + tuple(f"{p}-{t}" for t in ENTITY_TYPES for p in "BI")
_COLOURS = {
    "PS": "#fdd49e",
    "LC": "#c7e9c0",
    "OG": "#c6dbef",
    "DT": "#dadaeb",
    "TI": "#fcc5c0",
    "QT": "#f0f0a0",
}

HANGUL_FONT_PACKAGE = "koreanize_matplotlib"
HANGUL_FONT_FILE = "NanumGothic.ttf"
HANGUL_FONT_NAME = "NanumGothic"


# --------------------------------------------------------------------------
# The Hangul font
# --------------------------------------------------------------------------


def hangul_font_path() -> Path:
    """Path of the NanumGothic TTF that the course's dependencies install.

    Found without importing ``koreanize_matplotlib`` (importing it would change
    matplotlib's settings as a side effect). Raises a one-paragraph error when
    the package is missing.
    """
    spec = importlib.util.find_spec(HANGUL_FONT_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            path = Path(folder) / "fonts" / HANGUL_FONT_FILE
            if path.is_file():
                return path
    raise FileNotFoundError(
        f"The Korean font {HANGUL_FONT_FILE} was not found: it comes with the package "
        "koreanize-matplotlib, pinned in requirements/course.txt. Install the course's "
        "requirements again (`python3 course.py setup`, or `pip install -r "
        "requirements/course.txt` in the course's environment), then restart the kernel."
    )


def use_hangul_font() -> str:
    """Make matplotlib draw Hangul: register NanumGothic and add it as a fallback.

    Latin text keeps the default font (DejaVu Sans); characters it lacks, such as
    Hangul, come from NanumGothic (matplotlib >= 3.6 falls back glyph by glyph
    through the ``font.family`` list). Safe to call more than once. Returns the
    font's name.
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    path = hangul_font_path()
    if not any(Path(f.fname) == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    family = [f for f in mpl.rcParams["font.family"] if f != HANGUL_FONT_NAME]
    if family == ["sans-serif"]:
        family = ["DejaVu Sans"]
    mpl.rcParams["font.family"] = family + [HANGUL_FONT_NAME]
    mpl.rcParams["axes.unicode_minus"] = False  # a plain '-' renders in every font
    return HANGUL_FONT_NAME


# --------------------------------------------------------------------------
# Hangul syllables and particles
# --------------------------------------------------------------------------

_FIRST_SYLLABLE, _LAST_SYLLABLE = 0xAC00, 0xD7A3  # 가 ... 힣


def has_final_consonant(word: str) -> bool:
    """Whether the last Hangul syllable of ``word`` ends in a consonant (받침).

    A Hangul syllable block is U+AC00 + (initial * 21 + vowel) * 28 + final, with
    final 0 meaning "none". Non-Hangul endings: digits are read in Korean
    (1 일, 3 삼, 6 육, 7 칠, 8 팔, 0 영 end in a consonant); others count as no
    final consonant.
    """
    word = word.rstrip()
    if not word:
        return False
    last = word[-1]
    if _FIRST_SYLLABLE <= ord(last) <= _LAST_SYLLABLE:
        return (ord(last) - _FIRST_SYLLABLE) % 28 != 0
    return last in "013678"


_PARTICLES = {
    ("을", "를"),
    ("이", "가"),
    ("은", "는"),
    ("과", "와"),
    ("으로", "로"),
    ("이라", "라"),
    ("이에요", "예요"),
}


def josa(word: str, after_consonant: str, after_vowel: str) -> str:
    """``word`` plus the particle form that fits it, e.g. ``josa("서울", "을", "를")``.

    Korean particles change with the sound before them: after a final consonant
    서울을, 민준이, after a vowel 제주도를, 지수가. Pass the two forms of the pair,
    the one after a consonant first: 을/를, 이/가, 은/는, 과/와, 으로/로, 이라/라,
    이에요/예요. ``(으)로`` after ㄹ takes 로 (서울로).
    """
    if (after_consonant, after_vowel) not in _PARTICLES:
        raise ValueError(
            f"unknown particle pair {after_consonant}/{after_vowel}; use one of "
            + ", ".join(f"{a}/{b}" for a, b in sorted(_PARTICLES))
        )
    final = has_final_consonant(word)
    last = word.rstrip()[-1:] if word.strip() else ""
    if after_consonant == "으로" and last and _FIRST_SYLLABLE <= ord(last) <= _LAST_SYLLABLE:
        final = (ord(last) - _FIRST_SYLLABLE) % 28 not in (0, 8)  # 8 = ㄹ
    return word + (after_consonant if final else after_vowel)


# --------------------------------------------------------------------------
# Characters and tags as integers
# --------------------------------------------------------------------------


def char_vocabulary(sentences: Iterable[Sequence[str]], min_count: int = 2) -> list[str]:
    """Characters seen at least ``min_count`` times, most frequent first.

    Index 0 is ``<pad>`` and 1 is ``<unk>`` (any other character), as in Keras'
    ``TextVectorization``. Ties keep the order of first appearance.
    """
    counts = Counter(ch for sentence in sentences for ch in sentence)
    return [PAD, OOV] + [ch for ch, n in counts.most_common() if n >= min_count]


def encode_chars(
    sentences: Sequence[Sequence[str]], vocabulary: Sequence[str], maxlen: int
) -> np.ndarray:
    """Sentences (sequences of characters) to an ``(n, maxlen)`` int32 array.

    Padding 0 at the end; longer sentences are cut at ``maxlen``; unknown
    characters become 1.
    """
    index = {ch: i for i, ch in enumerate(vocabulary)}
    out = np.zeros((len(sentences), maxlen), dtype="int32")
    for row, sentence in enumerate(sentences):
        ids = [index.get(ch, 1) for ch in list(sentence)[:maxlen]]
        out[row, : len(ids)] = ids
    return out


def encode_tags(tag_lists: Sequence[Sequence[str]], maxlen: int) -> np.ndarray:
    """BIO tag lists to an ``(n, maxlen)`` int32 array of indices into :data:`TAGS`."""
    index = {tag: i for i, tag in enumerate(TAGS)}
    out = np.zeros((len(tag_lists), maxlen), dtype="int32")
    for row, tags in enumerate(tag_lists):
        try:
            ids = [index[tag] for tag in list(tags)[:maxlen]]
        except KeyError as err:
            raise ValueError(
                f"tag {err.args[0]!r} (sentence {row}) is not one of {TAGS[1:]}."
            ) from None
        out[row, : len(ids)] = ids
    return out


def decode_tags(ids: Sequence[int], length: int) -> list[str]:
    """Tag indices back to ``length`` tags; padding (and positions past ``ids``) become "O"."""
    ids = [int(i) for i in list(ids)[:length]]
    tags = [TAGS[i] if 0 < i < len(TAGS) else "O" for i in ids]
    return tags + ["O"] * (length - len(tags))


def length_batches(
    x: np.ndarray, y: np.ndarray, batch_size: int = 32, seed: int = 0, step: int = 16
):
    """A ``tf.data.Dataset`` of ``(x, y)`` batches grouped by sentence length.

    ``x`` and ``y`` are post-padded ``(n, maxlen)`` arrays (0 = padding). Rows
    are sorted by length and cut into batches; each batch is trimmed to its
    longest row, rounded up to a multiple of ``step`` (so only a few different
    shapes reach the model, and TensorFlow compiles only a few graphs). The
    order of the batches changes every epoch, drawn from a generator seeded
    with ``seed``. A recurrent layer then runs about as many steps as the
    sentences are long, not ``maxlen`` for every one; with masking the result
    is the same. The dataset declares its shapes as ``(None, None)``: Keras
    must not guess them from the first batches, which may share one width.
    """
    import tensorflow as tf

    x, y = np.asarray(x), np.asarray(y)
    if x.shape[:2] != y.shape[:2]:
        raise ValueError(f"x has shape {x.shape} but y {y.shape}: one tag per character.")
    lengths = (x > 0).sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    widths = [int(min(x.shape[1], max(step, -(-lengths[b].max() // step) * step))) for b in batches]
    rng = np.random.default_rng(seed)

    def epoch():
        for j in rng.permutation(len(batches)):
            yield x[batches[j], : widths[j]], y[batches[j], : widths[j]]

    spec = (
        tf.TensorSpec((None, None), tf.as_dtype(x.dtype)),
        tf.TensorSpec((None, None), tf.as_dtype(y.dtype)),
    )
    dataset = tf.data.Dataset.from_generator(epoch, output_signature=spec)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))


# --------------------------------------------------------------------------
# Entities and their scores
# --------------------------------------------------------------------------


def bio_spans(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """The entities of a BIO tag sequence as ``{(type, start, end), ...}`` (end exclusive).

    An entity starts at ``B-X``, or at an ``I-X`` that does not continue an
    entity of type X (as conlleval and ``seqeval``'s default mode read it), and
    runs while ``I-X`` follows.
    """
    spans: set[tuple[str, int, int]] = set()
    kind, start = None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, typ = str(tag).partition("-")
        continues = prefix == "I" and typ == kind
        if kind is not None and not continues:
            spans.add((kind, start, i))
            kind = None
        if prefix in ("B", "I") and typ and not continues:
            kind, start = typ, i
    return spans


def entities(chars: Sequence[str], tags: Sequence[str]) -> list[tuple[str, str]]:
    """``[(text, type), ...]`` of a tagged sentence, in order, surrounding spaces stripped."""
    found = sorted(bio_spans(tags), key=lambda span: span[1])
    out = []
    for kind, start, end in found:
        text = "".join(chars[start:end]).strip()
        if text:
            out.append((text, kind))
    return out


def entity_confidences(
    chars: Sequence[str], probabilities: np.ndarray
) -> list[tuple[str, str, float]]:
    """Every entity a tagger predicts, with how sure it is: ``[(text, type, confidence), ...]``.

    ``probabilities`` is the tagger's output for one sentence, shape
    ``(>= len(chars), len(TAGS))``. Tags are the most probable ones; an entity's
    confidence is the mean, over its characters, of that top probability. Texts
    are stripped of surrounding spaces; entities of spaces only are left out.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or len(probabilities) < len(chars):
        raise ValueError(
            f"probabilities of shape {probabilities.shape} for {len(chars)} characters: "
            "give one row of tag probabilities per character (the tagger's output for one "
            "sentence, shape (length, len(TAGS)))."
        )
    probabilities = probabilities[: len(chars)]
    tags = decode_tags(probabilities.argmax(axis=-1), len(chars))
    top = probabilities.max(axis=-1)
    found = []
    for kind, start, end in sorted(bio_spans(tags), key=lambda span: span[1]):
        text = "".join(chars[start:end]).strip()
        if text:
            found.append((text, kind, float(top[start:end].mean())))
    return found


def confident_entities(
    chars: Sequence[str],
    probabilities: np.ndarray,
    min_confidence: float = 0.75,
    min_length: int = 2,
) -> list[tuple[str, str]]:
    """The entities a tagger is sure of: ``[(text, type), ...]`` in order.

    Those of :func:`entity_confidences` whose confidence is at least
    ``min_confidence`` and whose text has ``min_length`` characters or more.
    Use it on text unlike the tagger's training data, where low-confidence
    guesses are mostly wrong.
    """
    return [
        (text, kind)
        for text, kind, confidence in entity_confidences(chars, probabilities)
        if len(text) >= min_length and confidence >= min_confidence
    ]


def entity_scores(
    true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]
) -> dict[str, dict[str, float]]:
    """Entity-level precision, recall and F1, overall (``"all"``) and per type.

    An entity counts as found only if its type, start and end all match.
    precision = found / predicted, recall = found / true, F1 = their harmonic mean.
    Each entry: ``{"precision", "recall", "f1", "true", "predicted", "found"}``.
    """
    if len(true_tags) != len(pred_tags):
        raise ValueError(f"{len(true_tags)} true and {len(pred_tags)} predicted sentences.")
    counts: dict[str, Counter] = {"all": Counter()}
    for sentence, (truth, guess) in enumerate(zip(true_tags, pred_tags, strict=True)):
        if len(truth) != len(guess):
            raise ValueError(
                f"sentence {sentence}: {len(truth)} true tags but {len(guess)} "
                "predicted ones; give one tag per character."
            )
        t, p = bio_spans(truth), bio_spans(guess)
        for name, spans in (("true", t), ("predicted", p), ("found", t & p)):
            for kind, _, _ in spans:
                counts["all"][name] += 1
                counts.setdefault(kind, Counter())[name] += 1
    scores = {}
    for kind in ["all", *sorted(k for k in counts if k != "all")]:
        c = counts[kind]
        precision = c["found"] / c["predicted"] if c["predicted"] else 0.0
        recall = c["found"] / c["true"] if c["true"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[kind] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "true": c["true"],
            "predicted": c["predicted"],
            "found": c["found"],
        }
    return scores


def highlight_entities(chars: Sequence[str], tags: Sequence[str]) -> str:
    """HTML of a sentence with each entity on a coloured background, its type after it."""
    spans = sorted(bio_spans(tags), key=lambda span: span[1])
    parts, pos = [], 0
    for kind, start, end in spans:
        parts.append(html.escape("".join(chars[pos:start])))
        colour = _COLOURS.get(kind, "#e0e0e0")
        parts.append(
            f'<mark style="background:{colour}; padding:0 2px; border-radius:3px" '
            f'title="{html.escape(ENTITY_NAMES.get(kind, kind))}">'
            f"{html.escape(''.join(chars[start:end]))}<sub>{html.escape(kind)}</sub></mark>"
        )
        pos = end
    parts.append(html.escape("".join(chars[pos:])))
    return '<span style="font-size:1.1em; line-height:1.8">' + "".join(parts) + "</span>"
