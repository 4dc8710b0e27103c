"""Chapter 8's chatbot engine: intent + entities -> a reply, and a chat widget.

The engine is plain Python, so tests drive it without a browser or a trained
network: it takes two functions,

- ``classify(sentences) -> probabilities``, shape ``(n, 3)`` (the text CNN),
- ``tag(sentence) -> [(text, type), ...]`` (the entity tagger),

and an :class:`AnswerIndex` over the training pairs. :meth:`ChatEngine.reply`
predicts the label, finds the training question **with that label** (with any
label, when the classifier is unsure) most similar to the sentence (cosine
similarity of TF-IDF vectors of character n-grams) and answers with that
question's answer, mentioning an entity where one was found
(:func:`echo_entities`). :func:`chat_widget` only wires a text box to
:func:`ChatEngine.reply` and :func:`render_history`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from helpers.datasets import CHATBOT_LABELS
from helpers.korean import has_final_consonant

__all__ = [
    "LABEL_NAMES",
    "Reply",
    "AnswerIndex",
    "TITLES",
    "address",
    "echo_entities",
    "ChatEngine",
    "render_history",
    "chat_widget",
]

LABEL_NAMES = CHATBOT_LABELS  # ChatbotData's labels 0, 1, 2: 일상다반사, 이별, 사랑
# The reply to an empty (or all-space) message: nothing was said, so ask for something.
EMPTY_INPUT_REPLY = "아직 아무것도 입력하지 않으셨어요. 하고 싶은 말을 적어 주세요."


@dataclass(frozen=True)
class Reply:
    """What the engine says, and why."""

    text: str
    label: int
    label_name: str
    confidence: float
    entities: list[tuple[str, str]] = field(default_factory=list)
    matched_question: str = ""
    answer: str = ""
    similarity: float = 0.0
    unsure: bool = False  # the classifier was unsure, so every label's questions were searched


class AnswerIndex:
    """The training pairs, searchable by similarity within one label.

    Questions become TF-IDF vectors of character n-grams (1 to 3 characters,
    within words: scikit-learn's ``analyzer="char_wb"``), which match Korean
    word stems whatever particle follows them.
    """

    def __init__(
        self,
        questions: Sequence[str],
        answers: Sequence[str],
        labels: Sequence[int],
        ngram_range: tuple[int, int] = (1, 3),
    ):
        from sklearn.feature_extraction.text import TfidfVectorizer

        if not len(questions) == len(answers) == len(labels):
            raise ValueError(
                f"{len(questions)} questions, {len(answers)} answers and "
                f"{len(labels)} labels: give one of each per pair."
            )
        if len(questions) == 0:
            raise ValueError("AnswerIndex needs at least one question/answer pair.")
        self.questions = [str(q) for q in questions]
        self.answers = [str(a) for a in answers]
        self.labels = np.asarray(labels, dtype=np.int64)
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True
        )
        self.matrix = self.vectorizer.fit_transform(self.questions)  # rows have norm 1

    def answers_for(self, label: int) -> set[str]:
        """Every training answer of ``label``: the only replies the engine can give for it."""
        return {a for a, lab in zip(self.answers, self.labels, strict=True) if lab == label}

    def nearest(self, sentence: str, label: int | None = None) -> tuple[int, float]:
        """``(row, cosine)`` of the most similar training question (of ``label``, if given).

        Ties go to the first such row, so the result is the same on every machine.
        """
        sims = (self.matrix @ self.vectorizer.transform([sentence]).T).toarray().ravel()
        if label is not None:
            allowed = self.labels == label
            if not allowed.any():
                raise ValueError(f"no training pair has label {label}.")
            sims = np.where(allowed, sims, -1.0)
        row = int(np.argmax(sims))
        return row, float(sims[row])


# Words that follow a name as a title or a form of address ("김민수 선생님", "민준 형"). The engine
# keeps the one the sentence used, so the reply does not swap a teacher's title for a stiff 님.
TITLES = (
    "선생님", "교수님", "사장님", "회장님", "부장님", "과장님", "팀장님", "대표님", "감독님",
    "선배님", "작가님", "선생", "교수", "사장", "회장", "부장", "과장", "팀장", "대표", "감독",
    "선배", "후배", "선수", "작가", "씨", "님", "오빠", "누나", "언니", "형",
)  # fmt: skip
# What may follow a title: the end, a space or punctuation, or the first syllable of a particle
# (선생님이, 형이랑, 언니한테). "형편" is not 형 plus a particle, so it is not a title.
_AFTER_TITLE = set(" ,.!?~") | set("이가은는을를과와께에도의랑하한만처보")


def _title_at(text: str, start: int) -> str:
    """The title that begins at ``text[start]`` (one space before it allowed), or ""."""
    rest = text[start:]
    rest = rest[1:] if rest.startswith(" ") else rest
    for title in TITLES:  # longer titles first: 선생님 before 선생
        if rest.startswith(title):
            after = rest[len(title) : len(title) + 1]
            if not after or after in _AFTER_TITLE:
                return title
    return ""


def _is_hangul(text: str) -> bool:
    return bool(text) and all("\uac00" <= ch <= "\ud7a3" for ch in text)


def address(name: str, sentence: str = "") -> str:
    """How the engine names a person: "김민수 선생님", "민준이", "지수", "김민수".

    A title the sentence puts after the name is kept ("김민수 선생님이 보고 싶어" ->
    "김민수 선생님"). Without one, the person is spoken of as a friend would: a given name of
    two syllables that ends in a consonant takes the familiar 이 (민준 -> 민준이; 지수 stays
    지수), and a full name stays as it is, with no honorific added.
    """
    position = sentence.find(name) if name else -1
    title = _title_at(sentence, position + len(name)) if position >= 0 else ""
    if title:
        return f"{name} {title}"
    if len(name) == 2 and _is_hangul(name) and has_final_consonant(name):
        return name + "이"
    return name


def _title_in(answer: str, title: str) -> int:
    """Where ``title`` starts a word of ``answer`` as a title, or -1."""
    for start in range(len(answer)):
        if (start == 0 or answer[start - 1] == " ") and _title_at(answer, start) == title:
            return start
    return -1


def echo_entities(answer: str, entities: Sequence[tuple[str, str]], sentence: str = "") -> str:
    """Mention the first person, place or organisation found, naming it once.

    A person (PS) is named as :func:`address` says, from how ``sentence`` names them: "민준이
    이야기군요.", "김민수 선생님 이야기군요.". When the answer already speaks of the person by
    the title the sentence used ("선생님도 좋아할 거예요."), the name goes there instead of a
    second mention: "김민수 선생님도 좋아할 거예요.". A place or an organisation (LC, OG):
    "부산 이야기군요." Dates, times and quantities are not echoed (a template would rarely fit
    them). Nothing to echo: the answer unchanged.
    """
    for text, kind in entities:
        if kind == "PS":
            who = address(text, sentence)
            title = who[len(text) + 1 :] if who.startswith(text + " ") else ""
            at = _title_in(answer, title) if title else -1
            if at >= 0:
                return answer[:at] + who + answer[at + len(title) :]
            return f"{who} 이야기군요. {answer}"
        if kind in ("LC", "OG"):
            return f"{text} 이야기군요. {answer}"
    return answer


class ChatEngine:
    """Sentence -> label (``classify``) + entities (``tag``) -> reply from ``index``.

    The reply comes from the training questions of the predicted label. When ``classify`` is
    unsure (its highest probability below ``unsure_below``), a label is little more than a
    guess, so the engine searches the questions of every label instead and takes the label of
    the closest one: a travel plan the CNN half reads as love still gets a travel answer.
    """

    def __init__(
        self,
        classify: Callable[[list[str]], np.ndarray],
        tag: Callable[[str], list[tuple[str, str]]],
        index: AnswerIndex,
        label_names: Sequence[str] = LABEL_NAMES,
        unsure_below: float = 0.6,
    ):
        self.classify, self.tag, self.index = classify, tag, index
        self.label_names = tuple(label_names)
        self.unsure_below = float(unsure_below)

    def reply(self, sentence: str) -> Reply:
        if not isinstance(sentence, str):
            raise TypeError(f"reply() needs a sentence (str), got {type(sentence).__name__}.")
        sentence = " ".join(sentence.split())
        if not sentence:
            return Reply(EMPTY_INPUT_REPLY, -1, "-", 0.0)
        probs = np.asarray(self.classify([sentence]), dtype=float).reshape(-1)
        if probs.shape != (len(self.label_names),):
            raise ValueError(
                f"classify() returned {probs.size} probabilities for one sentence; "
                f"expected {len(self.label_names)}, one per label."
            )
        label = int(np.argmax(probs))
        unsure = bool(probs[label] < self.unsure_below)
        found = list(self.tag(sentence))
        if unsure:  # search every label; the closest question's label becomes the reply's
            row, similarity = self.index.nearest(sentence)
            label = int(self.index.labels[row])
        else:
            row, similarity = self.index.nearest(sentence, label)
        answer = self.index.answers[row]
        return Reply(
            echo_entities(answer, found, sentence),
            label,
            self.label_names[label],
            float(probs[label]),
            found,
            self.index.questions[row],
            answer,
            similarity,
            unsure,
        )


def render_history(history: Sequence[tuple[str, Reply]]) -> str:
    """The conversation as HTML: each sentence, then the reply with its label and entities."""
    rows = []
    for sentence, reply in history:
        found = ", ".join(f"{text} ({kind})" for text, kind in reply.entities) or "none"
        rows.append(
            '<div style="margin:4px 0"><b>you:</b> ' + html.escape(sentence) + "</div>"
            '<div style="margin:0 0 8px 1.5em"><b>bot:</b> '
            + html.escape(reply.text)
            + '<br><small style="color:#666">label: '
            + html.escape(reply.label_name)
            + f" ({reply.confidence:.0%}) · entities: "
            + html.escape(found)
            + " · closest question: "
            + html.escape(reply.matched_question)
            + "</small></div>"
        )
    return "".join(rows) or "<i>Type a sentence in Korean and press Enter.</i>"


def chat_widget(engine: ChatEngine):
    """A text box and a conversation log; every submitted sentence gets ``engine``'s reply.

    Returns the widget; ``widget.history`` holds ``[(sentence, Reply), ...]`` and
    ``widget.send(sentence)`` does what pressing Enter does (used by the tests).
    """
    import ipywidgets as widgets

    history: list[tuple[str, Reply]] = []
    log = widgets.HTML(render_history(history))
    box = widgets.Text(
        placeholder="한국어로 말해 보세요, e.g. 오늘 너무 심심해 (Enter)",
        continuous_update=False,
        layout=widgets.Layout(width="70%"),
    )
    button = widgets.Button(description="보내기 (send)")

    def send(sentence: str) -> Reply | None:
        if not sentence.strip():
            return None
        reply = engine.reply(sentence)
        history.append((sentence, reply))
        log.value = render_history(history)
        return reply

    def on_value(change):
        if change["new"].strip():
            send(change["new"])
            box.value = ""

    box.observe(on_value, names="value")
    button.on_click(lambda _: on_value({"new": box.value}))
    widget = widgets.VBox([widgets.HBox([box, button]), log])
    widget.history = history
    widget.send = send
    return widget
