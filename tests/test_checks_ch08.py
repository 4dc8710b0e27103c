"""helpers.checks, chapter 8: each check accepts the right answer and names common mistakes."""

from __future__ import annotations

import pytest

from helpers import checks, korean
from helpers.checks import ch08


def _right_particle(word):
    code = ord(word[-1]) - 0xAC00
    if 0 <= code < 11172:
        return "을" if code % 28 else "를"
    return "을" if word[-1] in "013678" else "를"


def test_particle_accepts_right_and_explains_wrong():
    assert checks.check_particle(_right_particle).ok
    assert not checks.check_particle(None).attempted

    def not_yet(word):
        raise NotImplementedError

    assert not checks.check_particle(not_yet).attempted
    always = checks.check_particle(lambda w: "을")
    assert not always.ok and "% 28 = 0" in always.message
    no_digits = checks.check_particle(
        lambda w: "을" if (ord(w[-1]) - 0xAC00) % 28 and ord(w[-1]) >= 0xAC00 else "를"
    )
    assert not no_digits.ok and "digit" in no_digits.message
    whole = checks.check_particle(lambda w: w + _right_particle(w))
    assert not whole.ok and "only the particle" in whole.message
    crash = checks.check_particle(lambda w: w[5])
    assert not crash.ok and "IndexError" in crash.message
    wrong_type = checks.check_particle(lambda w: 1)
    assert not wrong_type.ok and "the string" in wrong_type.message


def test_entity_f1_matches_the_scorer_and_names_mistakes():
    right = korean.entity_scores(ch08.EX_F1["true"], ch08.EX_F1["pred"])["all"]
    assert right["true"] == 4 and right["predicted"] == 3 and right["found"] == 2
    assert checks.check_entity_f1(right["f1"]).ok
    assert checks.check_entity_f1(round(right["f1"], 3)).ok
    assert not checks.check_entity_f1(None).attempted
    for wrong, words in [
        (right["precision"], "precision"),
        (right["recall"], "recall"),
        ((right["precision"] + right["recall"]) / 2, "harmonic"),
        (2 * 0.75 / 1.75, "type, start and end"),
    ]:
        feedback = checks.check_entity_f1(wrong)
        assert not feedback.ok and words in feedback.message, (wrong, feedback)
    pairs = list(zip(sum(ch08.EX_F1["true"], []), sum(ch08.EX_F1["pred"], []), strict=True))
    char_acc = sum(t == p for t, p in pairs) / len(pairs)
    assert "characters tagged right" in checks.check_entity_f1(char_acc).message


def test_every_sentence_of_the_f1_example_has_one_tag_per_character():
    for chars, true, pred in zip(
        ch08.EX_F1["chars"], ch08.EX_F1["true"], ch08.EX_F1["pred"], strict=True
    ):
        assert len(chars) == len(true) == len(pred)


def test_conv_params_match_keras():
    keras = pytest.importorskip("keras")
    d, f, k, n = (
        ch08.EX_CONV[key] for key in ("embedding_dim", "filters", "kernel_size", "maxlen")
    )
    layer = keras.layers.Conv1D(f, k)
    layer.build((None, n, d))
    assert checks.check_conv_branch_params(layer.count_params()).ok
    assert "biases" in checks.check_conv_branch_params(k * d * f).message
    assert "sequence length" in checks.check_conv_branch_params(n * d * f + f).message
    assert "64 embedding dimensions" in checks.check_conv_branch_params(k * f + f).message
    assert not checks.check_conv_branch_params(None).attempted


@pytest.mark.parametrize("digit", list("0123456789"))
def test_particle_tests_every_digit(digit):
    assert digit in ch08.EX_PARTICLE_WORDS

    def wrong_on(word):  # right everywhere except on this one digit
        right = _right_particle(word)
        if word[-1] == digit:
            return "를" if right == "을" else "을"
        return right

    feedback = checks.check_particle(wrong_on)
    assert not feedback.ok, feedback
    reading = "영일이삼사오육칠팔구"[int(digit)]
    assert f"the digit {digit} is read {reading}" in feedback.message, feedback


def test_entity_f1_averaged_per_sentence_is_named():
    per_sentence = [
        korean.entity_scores([t], [p])["all"]["f1"]
        for t, p in zip(ch08.EX_F1["true"], ch08.EX_F1["pred"], strict=True)
    ]
    mean = sum(per_sentence) / len(per_sentence)
    for answer in (mean, round(mean, 3)):
        feedback = checks.check_entity_f1(answer)
        assert not feedback.ok and "mean of the sentences' own F1 scores" in feedback.message
        assert "all sentences together" in feedback.message


def test_entity_f1_rounded_fraction_and_percentage():
    assert checks.check_entity_f1("4/7").ok
    assert checks.check_entity_f1(4 / 7).ok
    # the chapter's worked example writes F1 with 2 decimals (0.67), so 0.57 is fair
    for fair in (0.57, "0.57", 0.571, "57.14%"):
        assert checks.check_entity_f1(fair).ok, fair
    rounded = checks.check_entity_f1(0.6)
    assert (
        not rounded.ok and "close, but rounded to 1 decimal: give at least 2" in rounded.message
    ), rounded
    for wrong in (0.572, 0.58):  # near 4/7, but not 4/7 rounded
        assert not checks.check_entity_f1(wrong).ok, wrong
    assert "check the last digit" in checks.check_entity_f1(0.572).message
    percent = checks.check_entity_f1(57.14)
    assert not percent.ok and "percentage" in percent.message, percent


def test_particle_returning_both_particles_is_told_to_choose_one():
    for both in ("을/를", "을 or 를", ["을", "를"]):
        feedback = checks.check_particle(lambda w, both=both: both)
        assert not feedback.ok and "both particles: return only one" in feedback.message
        assert "the word with it" not in feedback.message, feedback
