"""Chapter 8 exercises: the object particle 을/를, entity-level F1, a Conv1D branch's parameters."""

from __future__ import annotations

from typing import Any

from helpers.checks.engine import (
    Feedback,
    call_learner,
    check_value,
    exercise,
    kind,
    shown,
)
from helpers.korean import bio_spans, entity_scores, has_final_consonant

__all__ = [
    "EX_PARTICLE_WORDS",
    "EX_F1",
    "EX_CONV",
    "check_particle",
    "check_entity_f1",
    "check_conv_branch_params",
]

# Words with and without a final consonant (받침), including ㄹ, doubled and rare finals,
# and all ten digits, read in Korean (3 = 삼, so 3을; 2 = 이, so 2를), alone and ending a word.
_DIGIT_READINGS = dict(zip("0123456789", "영일이삼사오육칠팔구", strict=True))
EX_PARTICLE_WORDS = (
    "사랑",
    "친구",
    "서울",
    "학교",
    "밥",
    "여자친구",
    "닭",
    "커피",
    "책",
    "노래",
    "고양이",
    "꽃",
    "영화",
    "값",
    "힣",
    "가",
    *_DIGIT_READINGS,
    "버스7",
    "방5",
)

# 2 sentences, tags per character. True entities: 4; predicted: 3; exactly right: 2.
EX_F1 = {
    "chars": [list("지수는 서울에 산다"), list("내일 3시에 만나")],
    "true": [
        ["B-PS", "I-PS", "O", "O", "B-LC", "I-LC", "O", "O", "O", "O"],
        ["B-DT", "I-DT", "O", "B-TI", "I-TI", "O", "O", "O", "O"],
    ],
    "pred": [
        ["B-PS", "I-PS", "O", "O", "B-LC", "O", "O", "O", "O", "O"],
        ["B-DT", "I-DT", "O", "O", "O", "O", "O", "O", "O"],
    ],
}
EX_CONV = {"embedding_dim": 64, "filters": 128, "kernel_size": 4, "maxlen": 32}


def _reference_particle(word: str) -> str:
    return "을" if has_final_consonant(word) else "를"


@exercise("08")
def check_particle(object_particle: Any) -> Feedback:
    """Ex. 8.1: ``object_particle(word)`` returns "을" after a final consonant, else "를"."""
    name = "object_particle"
    for word in EX_PARTICLE_WORDS:
        got, problem = call_learner(
            object_particle,
            name,
            word,
            call=f"`{name}({word!r})`",
            context="Look at ord(word[-1]).",
        )
        if problem is not None:
            return problem
        want = _reference_particle(word)
        if isinstance(got, str) and got == want:
            continue
        said = f"`{name}({word!r})` returned {shown(got, 60)}"
        parts = got if isinstance(got, (list, tuple, set, frozenset)) else [got]
        if all(isinstance(p, str) for p in parts) and {"을", "를"} <= set("".join(parts)):
            return Feedback(
                False,
                f"{said}, both particles: return only one, chosen by the word: '을' after a "
                "final consonant, '를' after a vowel.",
            )
        if not isinstance(got, str):
            return Feedback(
                False,
                f"{said} ({kind(got)}); return the particle itself, the string '을' or '를'.",
            )
        if got.strip() in ("을", "를") and got != got.strip():
            return Feedback(False, f"{said}: return the particle without spaces around it.")
        if got.endswith(("을", "를")) and got[:-1].strip() == word:
            return Feedback(
                False,
                f"{said}: return only the particle ({want!r}), not the word with it.",
            )
        code = ord(word[-1]) - 0xAC00
        if 0 <= code < 11172:
            why = (
                f"({word[-1]!r} is U+AC00 + {code}; {code} % 28 = {code % 28}, and 0 means "
                "no final consonant)"
            )
        elif word[-1] in _DIGIT_READINGS:
            reading = _DIGIT_READINGS[word[-1]]
            ends = "a consonant" if has_final_consonant(reading) else "a vowel"
            why = f"(the digit {word[-1]} is read {reading} in Korean, which ends in {ends})"
        else:
            why = "(only Hangul syllables and digits have a Korean ending sound)"
        return Feedback(False, f"`{name}({word!r})` returned {got!r}, expected {want!r} {why}.")
    return Feedback(
        True,
        f"`{name}` picks 을/를 correctly for all {len(EX_PARTICLE_WORDS)} "
        "test words, digits included.",
    )


@exercise("08", answer="answer_f1")
def check_entity_f1(answer: Any) -> Feedback:
    """Ex. 8.2: the entity-level F1 of ``EX_F1["pred"]`` against ``EX_F1["true"]``."""
    name = "answer_f1"
    scores = entity_scores(EX_F1["true"], EX_F1["pred"])["all"]
    pairs = list(zip(sum(EX_F1["true"], []), sum(EX_F1["pred"], []), strict=True))
    char_accuracy = sum(t == p for t, p in pairs) / len(pairs)
    entity_chars = [(t, p) for t, p in pairs if t != "O"]
    tag_recall = sum(t == p for t, p in entity_chars) / len(entity_chars)
    close = lambda target: lambda v: abs(float(v) - target) < 1e-3  # noqa: E731
    n_true = sum(len(bio_spans(t)) for t in EX_F1["true"])
    per_sentence = [
        entity_scores([t], [p])["all"]["f1"]
        for t, p in zip(EX_F1["true"], EX_F1["pred"], strict=True)
    ]
    return check_value(
        answer,
        scores["f1"],
        name,
        atol=1e-3,
        decimals=2,  # section 5's worked example writes F1 with 2 decimals (0.67)
        hints={
            f"that is the share of characters tagged right ({char_accuracy:.3f}): entity F1 "
            "counts whole entities, and the many 'O' characters do not count at all.": close(
                char_accuracy
            ),
            "that is the precision (right entities / predicted entities); F1 also needs the "
            "recall and combines the two as 2PR / (P + R).": close(scores["precision"]),
            "that is the recall (right entities / true entities); F1 combines it with the "
            "precision as 2PR / (P + R).": close(scores["recall"]),
            **_mean_hint(scores, per_sentence),
            f"that counts 서 as if it were 서울: an entity counts only if its type, start and end "
            f"all match, so the predicted 서 is wrong. There are {n_true} true entities.": close(
                2 * 1.0 * 0.75 / 1.75
            ),
            (
                "that is the share of entity characters tagged right; entity F1 counts whole "
                "entities."
            ): close(tag_recall),
        },
    )


def _mean_hint(scores: dict[str, float], per_sentence: list[float]) -> dict[str, Any]:
    """The hints for two means that are not the F1: of the sentences' F1 scores, and of
    precision and recall (on this example both are 7/12, so one message names both)."""
    sentences = sum(per_sentence) / len(per_sentence)
    plain = (scores["precision"] + scores["recall"]) / 2
    by_sentence = (
        "that is the mean of the sentences' own F1 scores: entity F1 counts the "
        "entities of all sentences together, then takes P and R over the whole set, "
        "F1 = 2PR / (P + R)."
    )
    by_mean = (
        "that is the plain mean of precision and recall; F1 is their harmonic mean, 2PR / (P + R)."
    )

    def close(target: float) -> Any:
        return lambda v: abs(float(v) - target) < 1e-3

    if abs(sentences - plain) < 1e-3:
        both = (
            "that is the mean of the sentences' own F1 scores (here also the plain mean of "
            "precision and recall): count the entities of all sentences together, take P "
            "and R over the whole set, then their harmonic mean, F1 = 2PR / (P + R)."
        )
        return {both: close(plain)}
    return {by_sentence: close(sentences), by_mean: close(plain)}


@exercise("08")
def check_conv_branch_params(answer: Any) -> Feedback:
    """Ex. 8.3: parameters of ``Conv1D(128, 4)`` reading 64-dimensional embeddings."""
    d, f, k, maxlen = (
        EX_CONV[key] for key in ("embedding_dim", "filters", "kernel_size", "maxlen")
    )
    return check_value(
        answer,
        k * d * f + f,
        "answer_conv_params",
        hints={
            "the biases are missing: one per filter.": lambda v: v == k * d * f,
            "each filter spans all 64 embedding dimensions of every character in its window: "
            "kernel_size x embedding_dim x filters weights, plus one bias per filter.": lambda v: (
                v in (k * f + f, k * f, d * f + f)
            ),
            (
                "the sequence length does not matter: the same filters slide along the sentence."
            ): lambda v: v in (maxlen * d * f + f, (maxlen - k + 1) * f, k * d * f * maxlen + f),
        },
    )
