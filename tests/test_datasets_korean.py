"""helpers.data, chapter 8's corpora: ChatbotData and KLUE-NER, quirks, errors, download."""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from helpers import datasets
from helpers.data import cli, store
from helpers.datasets import DatasetError

# A ChatbotData look-alike with the real file's quirks and a few more: a byte-order mark,
# Windows line ends, empty lines, spaces around fields and labels, quoted commas and quotes,
# and a question in decomposed Hangul (NFD), as macOS may write it.
CHATBOT_ROWS = [
    "Q,A,label",
    "12시 땡!,하루가 또 가네요.,0",
    "",
    '"밥 먹었어, 너는?","네, 먹었어요.",0',
    "헤어졌어 ,힘내세요. , 1",
    '"그가 ""사랑해""라고 했어",좋겠어요.,2   ',
    unicodedata.normalize("NFD", "사랑해") + ",저도요.,2",
    "   ",
]
CHATBOT_BYTES = ("\ufeff" + "\r\n".join(CHATBOT_ROWS) + "\r\n").encode("utf-8")

KLUE_LINES = [
    "## 토큰, 태그 구분자 : \\t",
    "## 문장 구분자 : \\n\\n",
    "## 주석 : ##",
    "",
    "## klue-ner-v1_dev_00000\t<지수:PS>는 서울에",
    "지\tB-PS",
    "수\tI-PS",
    "는\tO",
    " \tO",
    "서\tB-LC",
    "울\tI-LC",
    "에\tO",
    "",
    "## klue-ner-v1_dev_00001\t# 3개",
    "#\tO",
    " \tO",
    "3\tB-QT",
    "개\tI-QT",
    "",
    "## klue-ner-v1_dev_00002\t<지수:PS>는 서울에",
    "지\tB-PS",
    "수\tI-PS",
    "는\tO",
    " \tO",
    "서\tB-LC",
    "울\tI-LC",
    "에\tO",
    "",
    "",
]
KLUE_TEXT = "\r\n".join(KLUE_LINES)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(
    folder: Path, chatbot: bytes = CHATBOT_BYTES, klue: str = KLUE_TEXT, sums: bool = True
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ChatbotData.csv").write_bytes(chatbot)
    (folder / "klue-ner-v1.1_dev.tsv").write_bytes(klue.encode("utf-8"))
    if sums:
        store.write_sums(folder)
    return folder


@pytest.fixture()
def korean_dir(isolated, monkeypatch):
    folder = _write(isolated / "course-data")
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    return folder


# --- ChatbotData -----------------------------------------------------------------------


def test_chatbot_quirks_give_clean_typed_arrays(korean_dir, capsys):
    questions, answers, labels = datasets.load_chatbot_data()
    assert questions.dtype.kind == "U" and answers.dtype.kind == "U"
    assert labels.dtype == np.int64
    assert labels.tolist() == [0, 0, 1, 2, 2]
    assert questions.tolist() == [
        "12시 땡!",
        "밥 먹었어, 너는?",
        "헤어졌어",
        '그가 "사랑해"라고 했어',
        "사랑해",
    ]
    assert answers.tolist() == [
        "하루가 또 가네요.",
        "네, 먹었어요.",
        "힘내세요.",
        "좋겠어요.",
        "저도요.",
    ]
    assert all(unicodedata.is_normalized("NFC", q) for q in questions)
    assert not any("\r" in q or "\ufeff" in q for q in questions)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith(
        "ChatbotData: 5 question/answer pairs (0 일상다반사 2, 1 이별 1, 2 사랑 2)"
    )
    assert "from COURSE_DATA_DIR" in out[0] and "MIT licence" in out[0] and "songys" in out[0]


@pytest.mark.parametrize(
    "rows, message",
    [
        (["Q,A", "hi,there"], r"Line 1 of .* not the header Q,A,label"),
        (["Q,A,label", "질문,답,3"], r"Line 2 of .*question,answer,0/1/2"),
        (["Q,A,label", "질문,답,2,extra"], r"Line 2 of .*4 fields instead of 3"),
        (["Q,A,label", ",답,1"], r"Line 2 of .*question,answer,0/1/2"),
        (["Q,A,label", ""], r"no question/answer pairs"),
    ],
)
def test_chatbot_damage_is_one_paragraph_with_the_line(isolated, monkeypatch, rows, message):
    folder = _write(isolated / "d", chatbot="\n".join(rows).encode(), sums=False)
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    with pytest.raises(DatasetError, match=message) as info:
        datasets.load_chatbot_data()
    assert "\n" not in str(info.value) and "fetch --to" in str(info.value)


def test_chatbot_not_utf8_is_named_as_corrupt(isolated, monkeypatch):
    folder = _write(isolated / "d", chatbot="Q,A,label\n질문,답,0\n".encode("cp949"), sums=False)
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    with pytest.raises(DatasetError, match=r"ChatbotData\.csv .*truncated or corrupt"):
        datasets.load_chatbot_data()


def test_chatbot_checksum_mismatch_is_reported(korean_dir):
    with open(korean_dir / "ChatbotData.csv", "ab") as fh:
        fh.write("추가,행,0\r\n".encode())
    with pytest.raises(DatasetError, match="does not match its checksum in SHA256SUMS"):
        datasets.load_chatbot_data()


# --- KLUE-NER --------------------------------------------------------------------------


def test_klue_parses_comments_blank_lines_spaces_and_crlf(korean_dir, capsys):
    sentences, tags = datasets.load_klue_ner()
    assert sentences == [list("지수는 서울에"), list("# 3개"), list("지수는 서울에")]
    assert tags[0] == ["B-PS", "I-PS", "O", "O", "B-LC", "I-LC", "O"]
    assert tags[1] == ["O", "O", "B-QT", "I-QT"]
    assert all(len(s) == len(t) for s, t in zip(sentences, tags, strict=True))
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        "KLUE-NER: 3 sentences (18 characters), from COURSE_DATA_DIR. Data: KLUE-NER "
        "v1.1 by the KLUE benchmark (github.com/KLUE-benchmark/KLUE), CC BY-SA 4.0."
    ]


@pytest.mark.parametrize(
    "bad, message",
    [
        ("지\tB-XX", r"tag 'B-XX', not a BIO tag"),
        ("지수\tB-PS", r"neither CHAR<TAB>TAG nor a ## comment"),
        ("지 B-PS", r"neither CHAR<TAB>TAG nor a ## comment"),
    ],
)
def test_klue_damage_names_the_line(isolated, monkeypatch, bad, message):
    lines = list(KLUE_LINES)
    lines[6] = bad  # line 7 of the file
    folder = _write(isolated / "d", klue="\n".join(lines), sums=False)
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    with pytest.raises(DatasetError, match=r"Line 7 of .*" + message):
        datasets.load_klue_ner()


def test_klue_without_sentences_is_an_error(isolated, monkeypatch):
    folder = _write(isolated / "d", klue="## only a comment\n\n", sums=False)
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    with pytest.raises(DatasetError, match="no tagged sentence"):
        datasets.load_klue_ner()


def test_split_is_fixed_disjoint_complete_and_keeps_duplicates_together():
    keys = [f"s{i % 40}" for i in range(100)]  # 40 distinct, repeated
    parts = datasets.grouped_split(keys, seed=3)
    again = datasets.grouped_split(keys, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))
    assert sorted(np.concatenate(parts).tolist()) == list(range(100))
    groups = [{keys[i] for i in idx} for idx in parts]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert [len(g) for g in groups] == [28, 6, 6]  # 70/15/15 of the 40 distinct keys
    other = datasets.grouped_split(keys, seed=4)
    assert not np.array_equal(parts[0], other[0])
    with pytest.raises(ValueError, match="sum to 1"):
        datasets.grouped_split(keys, fractions=(0.5, 0.4))


def test_split_klue_ner_returns_sentence_tag_pairs(korean_dir):
    sentences, tags = datasets.load_klue_ner()
    train, val, test = datasets.split_klue_ner(sentences, tags, fractions=(0.5, 0.25, 0.25))
    total = [s for part in (train, val, test) for s in part[0]]
    assert sorted(map("".join, total)) == sorted(map("".join, sentences))
    for part_s, part_t in (train, val, test):
        assert [len(s) for s in part_s] == [len(t) for t in part_t]
    # the two copies of the repeated sentence are in the same part
    assert any(
        ["".join(s) for s in part[0]].count("지수는 서울에") == 2 for part in (train, val, test)
    )
    with pytest.raises(ValueError, match="2 tag lists"):
        datasets.split_klue_ner(sentences, tags[:2])


# --- Download from the public repositories, fetch, verify, mirror ---------------------------


@pytest.fixture()
def fake_github(monkeypatch):
    """`store.download` patched: the two raw URLs serve the fixture files; nothing else
    exists. The downloaded bytes are checked against the hash they were asked for."""
    served = {
        store.URLS["ChatbotData.csv"]: CHATBOT_BYTES,
        store.URLS["klue-ner-v1.1_dev.tsv"]: KLUE_TEXT.encode(),
    }
    requested = []

    def fake_download(url, dest, sha256=None):
        requested.append(url)
        if url not in served:
            raise DatasetError(
                f"Could not download {url} (URLError: no network here). Nothing was saved."
            )
        if sha256 and _sha(served[url]) != sha256:
            raise DatasetError(
                f"{dest.name} downloaded from {url} does not match its expected "
                "checksum. Nothing was saved."
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(served[url])

    monkeypatch.setattr(store, "download", fake_download)
    monkeypatch.setitem(store.UPSTREAM_SHA256, "ChatbotData.csv", _sha(CHATBOT_BYTES))
    monkeypatch.setitem(store.UPSTREAM_SHA256, "klue-ner-v1.1_dev.tsv", _sha(KLUE_TEXT.encode()))
    return requested


def test_raw_urls_are_the_public_repositories():
    assert store.URLS["ChatbotData.csv"] == (
        "https://raw.githubusercontent.com/songys/Chatbot_data/master/ChatbotData.csv"
    )
    assert store.URLS["klue-ner-v1.1_dev.tsv"] == (
        "https://raw.githubusercontent.com/KLUE-benchmark/KLUE/main/klue_benchmark/"
        "klue-ner-v1.1/klue-ner-v1.1_dev.tsv"
    )
    shared = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "README.md"
    if shared.is_file():  # the pinned hashes are the ones the offline copies document
        readme = shared.read_text(encoding="utf-8")
        for rel in ("ChatbotData.csv", "klue-ner-v1.1_dev.tsv"):
            assert store.UPSTREAM_SHA256[rel] in readme


def test_loader_downloads_once_and_says_from_where(isolated, fake_github, capsys):
    questions, _, _ = datasets.load_chatbot_data()
    assert len(questions) == 5
    out = capsys.readouterr().out
    assert f"from {store.URLS['ChatbotData.csv']} (saved in the course's data/ folder)" in out
    assert (store.REPO_DATA_DIR / "ChatbotData.csv").read_bytes() == CHATBOT_BYTES
    assert fake_github == [store.URLS["ChatbotData.csv"]]
    datasets.load_chatbot_data()  # the second time: offline
    assert "from the course's data/ folder" in capsys.readouterr().out
    assert len(fake_github) == 1
    assert {s for _, s in datasets.verify(store.REPO_DATA_DIR)} == {"OK"}


def test_download_not_matching_the_pinned_hash_saves_nothing(isolated, fake_github, monkeypatch):
    monkeypatch.setitem(store.UPSTREAM_SHA256, "klue-ner-v1.1_dev.tsv", "0" * 64)
    with pytest.raises(DatasetError, match="does not match its expected checksum") as info:
        datasets.load_klue_ner()
    assert "Could not load KLUE-NER" in str(info.value)
    assert not (store.REPO_DATA_DIR / "klue-ner-v1.1_dev.tsv").exists()


def test_no_data_no_network_gives_one_clear_paragraph(isolated, monkeypatch):
    with pytest.raises(DatasetError) as info:
        datasets.load_chatbot_data()
    message = str(info.value)
    assert "\n" not in message
    assert "Could not load ChatbotData" in message
    assert "COURSE_DATA_MIRROR is not set" in message
    assert store.URLS["ChatbotData.csv"] in message
    assert "Temporary failure in name resolution" in message
    assert "connect to the internet" in message and "set COURSE_DATA_DIR" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_fetch_uses_the_github_urls_and_writes_sums(isolated, fake_github, capsys):
    target = isolated / "fetched"
    assert cli.main(["fetch", "--to", str(target), "--only", "chatbot", "klue_ner"]) == 0
    assert fake_github == [store.URLS["ChatbotData.csv"], store.URLS["klue-ner-v1.1_dev.tsv"]]
    assert {s for _, s in datasets.verify(target)} == {"OK"}
    assert set(store.read_sums(target)) == {"ChatbotData.csv", "klue-ner-v1.1_dev.tsv"}


def test_fetch_everything_includes_the_korean_corpora(isolated, monkeypatch):
    requested = []

    def record(url, dest, sha256=None):
        requested.append(url)
        raise DatasetError("offline")

    monkeypatch.setattr(store, "download", record)
    for name in store.FILES:
        if set(store.FILES[name]) <= store.SHIPPED:
            continue  # copied from the course's own copy, never downloaded (test_datasets_nsmc)
        with pytest.raises(DatasetError):
            datasets.fetch(isolated / "x", datasets=[name], quiet=True)
    assert {store.URLS["ChatbotData.csv"], store.URLS["klue-ner-v1.1_dev.tsv"]} <= set(requested)
    assert "chatbot" in store.FILES and "klue_ner" in store.FILES


def test_mirror_serves_the_korean_files(korean_dir, tmp_path, capsys):
    server = datasets.make_server(korean_dir, port=0, bind="127.0.0.1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = tmp_path / "student"
        datasets.fetch(target, mirror=f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    for rel in ("ChatbotData.csv", "klue-ner-v1.1_dev.tsv"):
        assert (target / rel).read_bytes() == (korean_dir / rel).read_bytes()
    assert {s for _, s in datasets.verify(target)} == {"OK"}


def test_an_older_mirror_without_the_korean_files_is_skipped(tiny_dir, tmp_path, capsys):
    """A mirror whose SHA256SUMS predates chapter 8: fetching everything skips what it lacks."""
    server = datasets.make_server(tiny_dir, port=0, bind="127.0.0.1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        datasets.fetch(tmp_path / "student", mirror=f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    out = capsys.readouterr().out
    assert "skipped     ChatbotData.csv (not on the mirror)" in out
    assert "skipped     klue-ner-v1.1_dev.tsv (not on the mirror)" in out
    assert (tmp_path / "student" / "mnist.npz").is_file()


def test_data_file_finds_the_loaders_file(korean_dir):
    assert datasets.data_file("chatbot") == korean_dir / "ChatbotData.csv"
    assert datasets.data_file("klue_ner") == korean_dir / "klue-ner-v1.1_dev.tsv"
    with pytest.raises(ValueError, match="data_file"):
        datasets.data_file("mnist")


# --- The real offline copies -----------------------------------------------------------------


def _real_folder() -> Path | None:
    folder = store.chosen_data_dir()
    return folder if folder and (folder / "ChatbotData.csv").is_file() else None


@pytest.mark.skipif(
    _real_folder() is None, reason="COURSE_DATA_DIR with the Korean corpora not set"
)
def test_real_korean_copies_load_clean(capsys):
    questions, answers, labels = datasets.load_chatbot_data()
    assert len(questions) == len(answers) == len(labels) == 11_823
    assert np.bincount(labels).tolist() == [5290, 3570, 2963]
    assert all(q == q.strip() and q for q in questions)
    sentences, tags = datasets.load_klue_ner()
    assert len(sentences) == 5000
    assert all(len(s) == len(t) for s, t in zip(sentences, tags, strict=True))
    assert sum(len(s) for s in sentences) == 285_929
    assert any(" " in s for s in sentences[:10])
