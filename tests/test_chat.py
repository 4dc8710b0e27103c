"""helpers.chat: the engine's reply logic and the chat widget, with stand-in models."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import chat

QUESTIONS = [
    "오늘 너무 심심해",
    "심심해",
    "헤어지고 힘들어",
    "이별한 지 열흘",
    "고백하고 싶어",
    "좋아하는 사람이 생겼어",
]
ANSWERS = [
    "저랑 놀아요.",
    "노래 불러 드릴까요?",
    "힘내세요.",
    "시간이 약이에요.",
    "용기 내세요.",
    "축하해요.",
]
LABELS = [0, 0, 1, 1, 2, 2]


@pytest.fixture()
def index():
    return chat.AnswerIndex(QUESTIONS, ANSWERS, LABELS)


def fixed_classifier(label, confidence=0.8):
    def classify(sentences):
        probs = np.full((len(sentences), 3), (1 - confidence) / 2)
        probs[:, label] = confidence
        return probs

    return classify


def no_entities(sentence):
    return []


def test_nearest_searches_only_the_given_label(index):
    row, sim = index.nearest("너무 심심해", label=0)
    assert QUESTIONS[row] in ("오늘 너무 심심해", "심심해") and 0 < sim <= 1
    row, _ = index.nearest("너무 심심해", label=2)
    assert LABELS[row] == 2
    row, sim = index.nearest("이별한 지 열흘", label=1)
    assert row == 3 and sim == pytest.approx(1.0)
    assert index.answers_for(1) == {"힘내세요.", "시간이 약이에요."}


def test_ties_go_to_the_first_row():
    index = chat.AnswerIndex(["같은 질문", "같은 질문"], ["첫째", "둘째"], [0, 0])
    assert index.nearest("같은 질문", 0)[0] == 0


def test_index_refuses_bad_input():
    with pytest.raises(ValueError, match="one of each per pair"):
        chat.AnswerIndex(["a"], ["b", "c"], [0])
    with pytest.raises(ValueError, match="at least one"):
        chat.AnswerIndex([], [], [])
    with pytest.raises(ValueError, match="no training pair has label 2"):
        chat.AnswerIndex(["질문"], ["답"], [0]).nearest("질문", 2)


@pytest.mark.parametrize("label", [0, 1, 2])
def test_reply_comes_from_the_predicted_labels_answers(index, label):
    engine = chat.ChatEngine(fixed_classifier(label), no_entities, index)
    reply = engine.reply("아무 문장이나")
    assert reply.label == label and reply.label_name == chat.LABEL_NAMES[label]
    assert reply.answer in index.answers_for(label) and reply.text == reply.answer
    assert reply.confidence == pytest.approx(0.8)
    assert (
        reply.matched_question in QUESTIONS
        and LABELS[QUESTIONS.index(reply.matched_question)] == label
    )


def test_reply_echoes_people_then_places_never_dates(index):
    cases = [
        ([("지수", "PS"), ("부산", "LC")], "지수 이야기군요. "),
        ([("내일", "DT"), ("부산", "LC")], "부산 이야기군요. "),
        ([("KLUE", "OG")], "KLUE 이야기군요. "),
        ([("내일", "DT"), ("3개", "QT")], ""),
    ]
    for found, prefix in cases:
        engine = chat.ChatEngine(fixed_classifier(1), lambda s, f=found: f, index)
        reply = engine.reply("헤어지고 힘들어")
        assert reply.text == prefix + reply.answer and reply.entities == found


@pytest.mark.parametrize(
    ("name", "sentence", "expected"),
    [
        ("민준", "내일 민준이랑 부산에 가", "민준이"),  # a friend: the familiar 이, no 님
        ("지수", "지수랑 놀고 싶어", "지수"),  # after a vowel: the name alone
        ("김민수", "김민수 만났어", "김민수"),  # a full name: no honorific added
        ("김민수", "김민수 선생님이 보고 싶어", "김민수 선생님"),  # the title kept
        ("민준", "민준 형이랑 싸웠어", "민준 형"),
        ("지수", "지수 씨한테 물어볼래", "지수 씨"),
        ("민준", "민준 형편이 어려워", "민준이"),  # 형편 is a word, not the title 형
        ("민준", "", "민준이"),  # no sentence: no title to keep
    ],
)
def test_address_keeps_the_title_and_speaks_of_a_friend_plainly(name, sentence, expected):
    assert chat.address(name, sentence) == expected
    assert not chat.address(name, sentence).endswith(" 님") or " 님" in sentence


def test_a_person_with_a_title_is_named_once():
    sentence = "김민수 선생님이 보고 싶어"
    found = [("김민수", "PS")]
    # the answer already speaks of the teacher: the name goes there, no second mention
    text = chat.echo_entities("선생님도 좋아할 거예요.", found, sentence)
    assert text == "김민수 선생님도 좋아할 거예요."
    assert text.count("김민수") == 1 and text.count("선생님") == 1
    # an answer that does not mention them: one echo, with the title the sentence used
    text = chat.echo_entities("마음을 전해 보세요.", found, sentence)
    assert text == "김민수 선생님 이야기군요. 마음을 전해 보세요."
    # a title inside another word of the answer is not the person
    text = chat.echo_entities("형편이 나아질 거예요.", [("민준", "PS")], "민준 형이 힘들대")
    assert text == "민준 형 이야기군요. 형편이 나아질 거예요."


def test_the_engine_passes_the_sentence_to_the_echo():
    index = chat.AnswerIndex(["선생님 보고 싶다"], ["선생님도 좋아할 거예요."], [0])
    engine = chat.ChatEngine(fixed_classifier(0), lambda s: [("김민수", "PS")], index)
    reply = engine.reply("김민수 선생님이 보고 싶어")
    assert (
        reply.text == "김민수 선생님도 좋아할 거예요." and reply.answer == "선생님도 좋아할 거예요."
    )
    friend = chat.ChatEngine(fixed_classifier(0), lambda s: [("민준", "PS")], index)
    assert friend.reply("민준이가 보고 싶어").text == "민준이 이야기군요. 선생님도 좋아할 거예요."


def test_an_unsure_label_searches_every_label(index):
    def unsure(sentences):  # love, barely: a guess
        return np.array([[0.3, 0.2, 0.5]])

    engine = chat.ChatEngine(unsure, no_entities, index)
    reply = engine.reply("오늘 너무 심심해")
    assert reply.unsure and reply.matched_question == "오늘 너무 심심해"
    assert reply.label == 0 and reply.label_name == chat.LABEL_NAMES[0]
    assert reply.confidence == pytest.approx(0.3) and reply.answer in index.answers_for(0)
    sure = chat.ChatEngine(fixed_classifier(2, 0.6), no_entities, index).reply("오늘 너무 심심해")
    assert not sure.unsure and sure.label == 2 and sure.answer in index.answers_for(2)
    never = chat.ChatEngine(unsure, no_entities, index, unsure_below=0).reply("오늘 너무 심심해")
    assert not never.unsure and never.label == 2


def test_empty_or_odd_input(index):
    engine = chat.ChatEngine(fixed_classifier(0), no_entities, index)
    for empty in ("", "   ", "\t\n"):
        reply = engine.reply(empty)
        assert reply.text == chat.EMPTY_INPUT_REPLY and reply.label == -1
    # nothing was typed: the reply asks for a message, it does not claim to have misread one
    assert "모르겠" not in chat.EMPTY_INPUT_REPLY and "적어 주세요" in chat.EMPTY_INPUT_REPLY
    with pytest.raises(TypeError, match="needs a sentence"):
        engine.reply(None)
    bad = chat.ChatEngine(lambda s: np.ones((1, 2)) / 2, no_entities, index)
    with pytest.raises(ValueError, match="expected 3"):
        bad.reply("심심해")


def test_spaces_are_normalised_before_the_models_see_the_sentence(index):
    seen = []

    def classify(sentences):
        seen.extend(sentences)
        return np.array([[0.9, 0.05, 0.05]])

    chat.ChatEngine(classify, no_entities, index).reply("  너무\t 심심해 ")
    assert seen == ["너무 심심해"]


def test_render_history_escapes_and_shows_why():
    reply = chat.Reply("<b>안녕</b>", 0, "일상다반사", 0.5, [("지수", "PS")], "안녕?", "안녕", 0.4)
    out = chat.render_history([("<script>", reply)])
    assert "<script>" not in out and "&lt;script&gt;" in out and "&lt;b&gt;안녕" in out
    assert "일상다반사 (50%)" in out and "지수 (PS)" in out and "안녕?" in out
    assert "Type a sentence" in chat.render_history([])


def test_widget_replies_to_enter_and_to_the_button(index):
    pytest.importorskip("ipywidgets")
    engine = chat.ChatEngine(fixed_classifier(2), no_entities, index)
    widget = chat.chat_widget(engine)
    (box, button), log = widget.children[0].children, widget.children[1]
    box.value = "고백할까?"  # what pressing Enter does (continuous_update=False)
    assert len(widget.history) == 1 and box.value == ""
    assert widget.history[0][1].answer in index.answers_for(2)
    assert "고백할까?" in log.value
    box.value = "   "  # blank: ignored
    assert len(widget.history) == 1
    button.click()  # nothing typed: nothing sent
    assert len(widget.history) == 1
    reply = widget.send("좋아하는 사람이 생겼어")
    assert reply is not None and len(widget.history) == 2 and "축하해요." in log.value
