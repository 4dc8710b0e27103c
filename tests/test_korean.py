"""helpers.korean: the Hangul font, particles, encodings, length batches and entity scores."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings

import matplotlib
import numpy as np
import pytest

from helpers import korean

matplotlib.use("Agg")


# --- The Hangul font ---------------------------------------------------------------------


def test_the_font_comes_with_the_requirements():
    path = korean.hangul_font_path()
    assert path.name == "NanumGothic.ttf" and path.stat().st_size > 1_000_000
    requirements = (
        korean.Path(__file__).resolve().parents[1] / "requirements/course.txt"
    ).read_text()
    assert "koreanize-matplotlib==" in requirements


def _draw(text: str) -> list[str]:
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title(text)
        ax.set_xticks([0, 1, 2], ["일상다반사", "이별", "사랑"])
        ax.plot([-1, 1])  # a negative tick label: the minus sign must render too
        fig.canvas.draw()
        plt.close(fig)
    return [str(w.message) for w in caught]


def test_hangul_renders_without_missing_glyph_warnings():
    assert korean.use_hangul_font() == "NanumGothic"
    korean.use_hangul_font()  # twice is harmless
    assert matplotlib.rcParams["font.family"].count("NanumGothic") == 1
    messages = _draw("한글 제목: 챗봇 엔진")
    assert not [m for m in messages if "missing from font" in m or "Glyph" in m], messages


_CONTROL = """
import warnings, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
names = {f.name for f in font_manager.fontManager.ttflist}
if any(n in names for n in ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "UnDotum",
                            "Baekmuk Gulim", "Malgun Gothic", "AppleGothic")):
    print("SYSTEM-HAS-KOREAN-FONT")
else:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots(); ax.set_title("한글"); fig.canvas.draw()
    print(any("missing from font" in str(w.message) for w in caught))
"""


def test_without_the_font_matplotlib_does_warn():
    """The control: the warning the test above checks for is real on this machine."""
    out = subprocess.run(
        [sys.executable, "-c", _CONTROL], capture_output=True, text=True, check=True
    ).stdout.strip()
    if out == "SYSTEM-HAS-KOREAN-FONT":
        pytest.skip("this machine has a Korean system font, so there is no warning to show")
    assert out == "True"


def test_a_missing_font_package_says_how_to_fix_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="koreanize-matplotlib.*requirements"):
        korean.hangul_font_path()


# --- Final consonants and particles --------------------------------------------------------


@pytest.mark.parametrize(
    "word, final",
    [
        ("사랑", True),
        ("친구", False),
        ("서울", True),
        ("닭", True),
        ("가", False),
        ("힣", True),
        ("3", True),
        ("2", False),
        ("10", True),
        ("SNS", False),
        ("", False),
        ("밥 ", True),
    ],
)
def test_has_final_consonant(word, final):
    assert korean.has_final_consonant(word) is final


@pytest.mark.parametrize(
    "word, pair, expected",
    [
        ("사랑", ("을", "를"), "사랑을"),
        ("커피", ("을", "를"), "커피를"),
        ("민준", ("이", "가"), "민준이"),
        ("지수", ("이", "가"), "지수가"),
        ("학교", ("은", "는"), "학교는"),
        ("책", ("과", "와"), "책과"),
        ("부산", ("으로", "로"), "부산으로"),
        ("서울", ("으로", "로"), "서울로"),
        ("학교", ("으로", "로"), "학교로"),
    ],
)
def test_josa_fits_the_word(word, pair, expected):
    assert korean.josa(word, *pair) == expected


def test_josa_refuses_an_unknown_pair():
    with pytest.raises(ValueError, match="unknown particle pair"):
        korean.josa("사랑", "를", "을")


# --- Encoding ----------------------------------------------------------------------------------


def test_char_vocabulary_orders_by_frequency_and_drops_rare():
    vocab = korean.char_vocabulary(["가가나", "가다나", "라"], min_count=2)
    assert vocab == ["<pad>", "<unk>", "가", "나"]


def test_encode_and_decode_round_trip():
    vocab = ["<pad>", "<unk>", "지", "수", " "]
    x = korean.encode_chars([list("지수 씨"), list("수")], vocab, maxlen=3)
    assert x.tolist() == [[2, 3, 4], [3, 0, 0]] and x.dtype == np.int32
    tags = [["B-PS", "I-PS", "O", "O"], ["B-QT"]]
    y = korean.encode_tags(tags, maxlen=5)
    assert y[0, :4].tolist() == [korean.TAGS.index(t) for t in tags[0]] and y[0, 4] == 0
    assert korean.decode_tags(y[0], 4) == tags[0]
    assert korean.decode_tags(y[1], 3) == ["B-QT", "O", "O"]  # padding reads as O
    assert korean.decode_tags([2, 3], 4) == ["B-PS", "I-PS", "O", "O"]  # cut sentences too
    with pytest.raises(ValueError, match="'B-XX'"):
        korean.encode_tags([["B-XX"]], 2)


def test_tags_list_layout():
    assert korean.TAGS[:2] == ("<pad>", "O") and len(korean.TAGS) == 14
    assert {t[2:] for t in korean.TAGS[2:]} == set(korean.ENTITY_TYPES)


def test_length_batches_cover_every_row_with_few_shapes():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 60, 101)
    x = np.zeros((101, 64), dtype="int32")
    for i, n in enumerate(lengths):
        x[i, :n] = rng.integers(2, 9, n)
    y = (x > 0).astype("int32")
    data = korean.length_batches(x, y, batch_size=8, seed=1, step=16)
    assert int(data.cardinality()) == 13
    assert data.element_spec[0].shape.as_list() == [None, None]

    def one_epoch(dataset):
        return [(xb.numpy(), yb.numpy()) for xb, yb in dataset]

    first = one_epoch(data)
    rows, kept, widths = 0, 0, set()
    for xb, yb in first:
        assert xb.shape == yb.shape and xb.shape[1] % 16 == 0
        assert np.array_equal(yb, (xb > 0).astype("int32"))
        widths.add(xb.shape[1])
        rows += len(xb)
        kept += int((xb > 0).sum())
    assert widths <= {16, 32, 48, 64} and len(widths) > 1
    assert rows == 101 and kept == int(lengths.sum())  # every row once, no character cut
    second = one_epoch(data)  # the next epoch: the same batches in another order
    assert sorted(b[0].shape[1] for b in first) == sorted(b[0].shape[1] for b in second)
    assert [b[0].tolist() for b in first] != [b[0].tolist() for b in second]
    again = one_epoch(korean.length_batches(x, y, batch_size=8, seed=1, step=16))
    assert [b[0].tolist() for b in again] == [b[0].tolist() for b in first]
    with pytest.raises(ValueError, match="one tag per character"):
        korean.length_batches(x, y[:, :10])


def test_keras_trains_on_length_batches_of_any_widths():
    """Keras must not fix the width from the first batches (it did, with a PyDataset)."""
    keras = pytest.importorskip("keras")
    from keras import layers

    x = np.zeros((48, 80), dtype="int32")
    x[:16, :10] = 3  # the first batches are all short ...
    x[16:, :70] = 4  # ... and later ones long
    y = (x > 0).astype("int32")
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(None,), dtype="int32")
    h = layers.Embedding(6, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(h))
    model.compile("adam", "sparse_categorical_crossentropy")
    for seed in range(4):  # whatever order the batches come in
        batches = korean.length_batches(x, y, batch_size=8, seed=seed)  # shuffled by seed
        model.fit(batches, epochs=2, verbose=0, shuffle=False)  # (Keras warns on the default)


def test_masked_model_gives_the_same_output_however_a_sentence_is_padded():
    keras = pytest.importorskip("keras")
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(None,), dtype="int32")
    h = layers.Embedding(10, 4, mask_zero=True)(inputs)
    h = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(h)
    model = keras.Model(inputs, layers.Dense(5, activation="softmax")(h))
    sentence = np.array([[3, 5, 7, 2]], dtype="int32")
    short = model.predict(np.pad(sentence, ((0, 0), (0, 12))), verbose=0)[0, :4]
    long = model.predict(np.pad(sentence, ((0, 0), (0, 60))), verbose=0)[0, :4]
    np.testing.assert_allclose(short, long, atol=1e-5)


# --- Entities ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tags, spans",
    [
        (["B-PS", "I-PS", "O", "B-LC"], {("PS", 0, 2), ("LC", 3, 4)}),
        (["I-PS", "I-PS", "O"], {("PS", 0, 2)}),  # I- without B- starts an entity (conlleval)
        (["B-PS", "I-LC", "I-LC"], {("PS", 0, 1), ("LC", 1, 3)}),  # a type change starts a new one
        (["B-DT", "B-DT", "I-DT"], {("DT", 0, 1), ("DT", 1, 3)}),
        (["O", "O"], set()),
        (["<pad>", "B-QT"], {("QT", 1, 2)}),
    ],
)
def test_bio_spans(tags, spans):
    assert korean.bio_spans(tags) == spans


def test_entities_and_scores_by_hand():
    chars = list("지수는 서울에")
    true = ["B-PS", "I-PS", "O", "O", "B-LC", "I-LC", "O"]
    pred = ["B-PS", "I-PS", "O", "O", "B-LC", "O", "B-OG"]
    assert korean.entities(chars, true) == [("지수", "PS"), ("서울", "LC")]
    scores = korean.entity_scores([true], [pred])
    assert scores["all"]["true"] == 2 and scores["all"]["predicted"] == 3
    assert scores["all"]["found"] == 1
    assert scores["all"]["precision"] == pytest.approx(1 / 3)
    assert scores["all"]["recall"] == pytest.approx(1 / 2)
    assert scores["all"]["f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert scores["PS"]["f1"] == 1.0 and scores["LC"]["f1"] == 0.0
    assert scores["OG"]["precision"] == 0.0 and scores["OG"]["true"] == 0
    assert korean.entity_scores([true], [true])["all"]["f1"] == 1.0
    assert korean.entity_scores([true], [["O"] * 7])["all"]["f1"] == 0.0
    with pytest.raises(ValueError, match="one tag per character"):
        korean.entity_scores([true], [pred[:3]])
    with pytest.raises(ValueError, match="1 true and 2 predicted"):
        korean.entity_scores([true], [pred, pred])


def test_confident_entities_keep_only_sure_and_long_enough():
    chars = list("민준 부산 내")
    probs = np.full((len(chars), len(korean.TAGS)), 0.01)
    tag = korean.TAGS.index

    def put(i, name, p):
        probs[i, tag(name)] = p

    for i, name in ((0, "B-PS"), (1, "I-PS")):
        put(i, name, 0.9)
    for i, name in ((3, "B-LC"), (4, "I-LC")):
        put(i, name, 0.6)
    put(6, "B-DT", 0.99)  # one character: too short
    for i in (2, 5):
        put(i, "O", 0.9)
    assert korean.confident_entities(chars, probs, 0.75) == [("민준", "PS")]
    assert korean.confident_entities(chars, probs, 0.5) == [("민준", "PS"), ("부산", "LC")]
    assert korean.confident_entities(chars, probs, 0.5, min_length=1)[-1] == ("내", "DT")
    found = korean.entity_confidences(chars, probs)
    assert [(text, kind) for text, kind, _ in found] == [
        ("민준", "PS"),
        ("부산", "LC"),
        ("내", "DT"),
    ]
    assert [round(c, 2) for _, _, c in found] == [0.9, 0.6, 0.99]
    with pytest.raises(ValueError, match="one row of tag probabilities per character"):
        korean.confident_entities(chars, probs[:3])
    with pytest.raises(ValueError, match="one row of tag probabilities per character"):
        korean.entity_confidences(chars, probs[0])


def test_highlight_marks_entities_and_escapes_html():
    out = korean.highlight_entities(list("<b>지수"), ["O", "O", "O", "B-PS", "I-PS"])
    assert "&lt;b&gt;" in out and "<b>" not in out
    assert out.count("<mark") == 1 and "지수<sub>PS</sub></mark>" in out
