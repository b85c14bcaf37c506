"""Strict YAML reading, on its own: each refusal is one line naming the key path (and where), and read_text
says in one line why a file cannot be read. The configs and hostile inputs that reach these through gen's
commands are in test_config.py, test_hostile.py and test_input_safety.py."""

from __future__ import annotations

import errno
import os

import pytest
from support import replaced_fdopen

from generator.plumbing import yamlio
from generator.plumbing.errors import ConfigError


def _refusal(text: str) -> str:
    with pytest.raises(ConfigError) as raised:
        yamlio.parse_documents(text, "f.yaml")
    [line] = raised.value.problems
    return line


@pytest.mark.parametrize("text, expected", [
    ("? [a, b]\n: 1\n", "f.yaml: (top level): a mapping key must be a plain value (line 1, column 3)"),
    ("a:\n  <<: {b: 1}\n", "f.yaml: a: merge keys (<<) are not allowed; write the keys out (line 2, column 3)"),
    ("a: !!merge x\n", "f.yaml: a: merge keys (<<) are not allowed; write the keys out (line 1, column 4)"),
    ("1: x\n", "f.yaml: 1: the key 1 is not text; quote it ('1'): Helm and Kubernetes read every key as "
               "text (line 1, column 1)"),
    ('"": x\n', "f.yaml: (top level): an empty key is not allowed (line 1, column 1)"),
    ("a: 1\na: 2\n", "f.yaml: a: duplicate key; each key may appear once (line 2, column 1)"),
    ("a: !!str [x]\n", "f.yaml: a: the tag '!!str' cannot be put on a list; remove the tag (line 1, column 4)"),
    ("a: !!map x\n", "f.yaml: a: the tag '!!map' cannot be put on a single value; remove the tag (line 1, column 4)"),
    ("a: !!seq {b: 1}\n", "f.yaml: a: the tag '!!seq' cannot be put on a mapping; remove the tag (line 1, column 4)"),
    ("a: !!binary aGk=\n", "f.yaml: a: the tag '!!binary' is not allowed; use plain YAML values (line 1, column 4)"),
    ("a: !mine x\n", "f.yaml: a: the tag '!mine' is not allowed; use plain YAML values (line 1, column 4)"),
    ("a: !!int abc\n", "f.yaml: a: 'abc' is not a valid !!int; write an integer such as 3, or quote it to keep it as "
                       "text (line 1, column 4)"),
    ("a: !!bool maybe\n", "f.yaml: a: 'maybe' is not a valid !!bool; write true or false, or quote it to keep it as "
                          "text (line 1, column 4)"),
    ("a: 9223372036854775808\n", "f.yaml: a: 9223372036854775808 does not fit in 64 bits; quote it to write text "
                                 "(line 1, column 4)"),
    ("a: [.nan]\n", "f.yaml: a[0]: .nan is not a finite number; quote it to write text (line 1, column 5)"),
    ('a: "\\x07"\n', "f.yaml: a: contains the control character U+0007; remove it (kustomize and Kubernetes refuse "
                     "control characters other than tab and line breaks) (line 1, column 4)"),
])
def test_valid_yaml_gen_does_not_take_is_refused_at_its_key_path(text, expected):
    assert _refusal(text) == expected


def test_invalid_yaml_is_one_line_naming_where_and_what():
    assert _refusal("a: [1, 2\nb: 3\n").startswith("f.yaml: invalid YAML (line 2, column 2): ")
    assert _refusal("a: \x07\n") == ("f.yaml: invalid YAML: the character U+0007 at offset 3 is not allowed in YAML; "
                                     "remove it (tab and newline are the only control characters YAML takes)")


def test_pyyamls_words_for_a_python_tag_become_what_is_allowed():
    problem = yamlio.yaml.constructor.ConstructorError(
        None, None, "could not determine a constructor for the tag '!!python/object'")
    assert yamlio._problem("f.yaml", problem) == ("f.yaml: invalid YAML: the tag '!!python/object' is not allowed; "
                                                  "use plain YAML values")


def test_a_file_holds_exactly_one_document(tmp_path):
    (tmp_path / "two.yaml").write_text("a: 1\n---\nb: 2\n")
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    with pytest.raises(ConfigError, match=r"^two.yaml: holds 2 YAML documents; exactly one is allowed$"):
        yamlio.load_file(tmp_path / "two.yaml", "two.yaml")
    assert yamlio.load_file(tmp_path / "empty.yaml", "empty.yaml", empty_ok=True) == {}
    with pytest.raises(ConfigError, match=r"^empty.yaml: file is empty; see the config reference"):
        yamlio.load_file(tmp_path / "empty.yaml", "empty.yaml")


def _read_problem(path, **kwargs) -> str:
    with pytest.raises(ConfigError) as raised:
        yamlio.read_text(path, "f.yaml", **kwargs)
    [line] = raised.value.problems
    return line


def test_a_file_that_is_no_file_or_no_text_is_one_line(tmp_path):
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "latin1").write_bytes(b"caf\xe9\n")
    (tmp_path / "big").write_text("x" * 20)
    assert _read_problem(tmp_path / "missing") == "f.yaml: file not found"
    assert _read_problem(tmp_path / "fifo") == "f.yaml: is not a regular file"
    assert _read_problem(tmp_path / "latin1") == "f.yaml: not UTF-8 text (invalid byte at offset 3)"
    assert _read_problem(tmp_path / "big", max_bytes=10) == "f.yaml: file is 20 bytes; at most 10 (0 MiB) is allowed"
    assert _read_problem(yamlio.Path("dir"), within=tmp_path) == "f.yaml: is not a regular file"


def test_within_the_project_a_planted_link_or_pipe_on_the_way_is_named_and_not_read(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f.yaml").write_text("a: 1\n")
    (tmp_path / "link").symlink_to("real")
    os.mkfifo(tmp_path / "pipe")
    assert _read_problem(yamlio.Path("link/f.yaml"), within=tmp_path) == (
        "f.yaml: not read: link is a symbolic link (to real); gen reads only regular files inside the project; "
        "remove it and run gen synth")
    assert _read_problem(yamlio.Path("pipe/f.yaml"), within=tmp_path) == (
        "f.yaml: not read: pipe is not a regular file; gen reads only regular files inside the project; remove it "
        "and run gen synth")
    assert _read_problem(yamlio.Path("../f.yaml"), within=tmp_path) == "f.yaml: cannot read: not a plain relative path"
    assert yamlio.read_text(yamlio.Path("real/f.yaml"), "f.yaml", within=tmp_path) == "a: 1\n"


def test_a_file_that_grows_past_the_limit_while_read_or_fails_to_read_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("small\n")

    def failing(_size):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(yamlio.os, "fdopen", replaced_fdopen(read=lambda size: b"x" * size))  # it grew since fstat
    assert _read_problem(tmp_path / "f", max_bytes=10) == "f.yaml: file is over 10 bytes; at most 10 (0 MiB) is allowed"
    monkeypatch.setattr(yamlio.os, "fdopen", replaced_fdopen(read=failing))
    assert _read_problem(tmp_path / "f") == "f.yaml: cannot read: Input/output error"
