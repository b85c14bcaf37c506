"""The swap of generated trees and files, in this process on small trees: each refusal, each OS failure and
its undo, and the journal's recovery of a run stopped between two renames.

test_all_or_nothing.py drives the same code through a real `gen synth`; test_processes.py kills a real
run. These tests reach the paths those cannot aim at (a rename that fails during undo, a journal that was
tampered with, a tree that vanished) without a synth.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from generator.plumbing import swap
from generator.plumbing.errors import OutputError
from generator.plumbing.output import STAGING_PREFIX, TREES

WIRING = "clusters/dev/airflow.yaml"


def _contents(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".gen-")}


@pytest.fixture
def project(tmp_path) -> Path:
    """A project with old trees and wiring file, and a staging directory holding the new trees."""
    root = tmp_path / "project"
    stage = root / f"{STAGING_PREFIX}test"
    for name in TREES:
        (root / name).mkdir(parents=True)
        (root / name / "file.yaml").write_text(f"old {name}\n")
        (stage / name).mkdir(parents=True)
        (stage / name / "file.yaml").write_text(f"new {name}\n")
    (root / WIRING).parent.mkdir(parents=True)
    (root / WIRING).write_text("old wiring\n")
    (root / "clusters/dev/gone.yaml").write_text("generated before\n")
    return root


def _stage(project: Path) -> Path:
    return project / f"{STAGING_PREFIX}test"


OLD = {"clusters/dev/airflow.yaml": "old wiring\n", "clusters/dev/gone.yaml": "generated before\n",
       "dist/file.yaml": "old dist\n", "overlays/file.yaml": "old overlays\n"}


NEW = {"clusters/dev/airflow.yaml": "new wiring\n", "dist/file.yaml": "new dist\n",
       "overlays/file.yaml": "new overlays\n"}


def _tracked(project: Path) -> dict[str, str]:
    return {k: v for k, v in _contents(project).items() if not k.startswith(STAGING_PREFIX)}


def test_replace_all_puts_in_every_tree_and_file_and_removes_the_stale_one(project):
    with swap.prepared_files(project, {WIRING: "new wiring\n"}, remove=["clusters/dev/gone.yaml"]) as prepared:
        swap.replace_all([(project, _stage(project))], [prepared])
    assert _tracked(project) == NEW
    assert not swap.interrupted(project)
    assert [p.name for p in (project / "clusters/dev").iterdir()] == ["airflow.yaml"]  # no backup left


def test_a_first_run_moves_its_trees_in_and_a_file_already_gone_needs_no_removal(project):
    for name in TREES:
        (project / name / "file.yaml").unlink()
        (project / name).rmdir()
    (_stage(project) / "dist" / "file.yaml").unlink()
    (_stage(project) / "dist").rmdir()  # this run writes overlays/ only
    (project / "clusters/dev/gone.yaml").unlink()
    with swap.prepared_files(project, {}, remove=["clusters/dev/gone.yaml"]) as prepared:
        swap.replace_all([(project, _stage(project))], [prepared])
    assert _tracked(project) == {"clusters/dev/airflow.yaml": "old wiring\n", "overlays/file.yaml": "new overlays\n"}


def test_recovery_of_a_first_run_moves_the_missing_tree_in(project):
    (project / "overlays" / "file.yaml").unlink()
    (project / "overlays").rmdir()
    _stopped_after_dist(project)
    assert "gen finished it" in swap.recover(project)[0]
    assert _contents(project) == NEW


def test_without_renameat2_the_two_rename_fallback_gives_the_same_trees(project, monkeypatch):
    monkeypatch.setattr(swap, "_libc_renameat2", lambda: None)
    swap.replace_all([(project, _stage(project))], [])
    assert {k: v for k, v in _tracked(project).items() if not k.startswith("clusters")} == {
        "dist/file.yaml": "new dist\n", "overlays/file.yaml": "new overlays\n"}
    assert (_stage(project) / "dist.old" / "file.yaml").read_text() == "old dist\n"


def test_an_exchange_with_a_missing_tree_is_the_os_error(tmp_path):
    (tmp_path / "new").mkdir()
    with pytest.raises(FileNotFoundError):
        swap._exchange(tmp_path / "new", tmp_path / "missing")


def test_undoing_an_exchange_the_os_cannot_make_any_more_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(swap, "_exchange", lambda new, current: False)
    with pytest.raises(OSError) as raised:
        swap._exchange_or_fail(tmp_path / "a", tmp_path / "b")
    assert raised.value.errno == errno.ENOTSUP


# --- refused before any rename -----------------------------------------------------------------------------

def test_every_file_problem_is_named_at_once_and_nothing_is_written(project):
    (project / "clusters/file").write_text("a file\n")
    (project / "clusters/dir.yaml").mkdir()
    files = {"clusters/file/airflow.yaml": "x", "clusters/dir.yaml": "x", "../outside.yaml": "x"}
    before = _contents(project)
    with pytest.raises(OutputError) as raised, swap.prepared_files(project, files):
        pass
    assert raised.value.problems == [
        "clusters/file/airflow.yaml: clusters/file is a file where gen needs a directory; move it away and run again",
        "clusters/dir.yaml: is a directory where gen writes this file; move it away and run again",
        f"../outside.yaml: would be written outside {project}; gen writes only inside the project: replace the "
        f"link with a directory",
    ]
    assert _contents(project) == before


def test_a_directory_that_cannot_be_made_is_one_line_and_the_made_ones_go(project, monkeypatch):
    real = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.name == "deep":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(OutputError) as raised, swap.prepared_files(project, {"clusters/new/deep/a.yaml": "x"}):
        pass
    assert raised.value.problems == ["clusters/new/deep/a.yaml: cannot write: Permission denied"]
    assert not (project / "clusters/new").exists()


def test_a_tree_that_is_read_only_for_gen_is_refused(project, monkeypatch):
    monkeypatch.setattr(swap.os, "access", lambda path, mode: Path(path).name != "overlays")
    assert swap.swap_problems(project, _stage(project)) == [
        "overlays/: is read-only; gen replaces it with a new directory, which needs write permission on it; "
        "make it writable (chmod u+w overlays) and run again"]


def test_a_path_with_no_flags_to_read_has_none(tmp_path):
    os.mkfifo(tmp_path / "fifo")  # opens, but has no chattr flags to ask for
    assert swap._attribute_flags(tmp_path / "fifo") == 0
    assert swap._attribute_flags(tmp_path / "missing") == 0


# --- a rename that fails: every one made is put back -------------------------------------------------------

def test_a_tree_that_cannot_be_replaced_puts_back_the_trees_and_files(project, monkeypatch):
    real = swap._exchange

    def exchange(new, current):
        if current.name == "overlays" and new.parent == _stage(project):
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(current))
        return real(new, current)

    monkeypatch.setattr(swap, "_exchange", exchange)
    with pytest.raises(OutputError) as raised, swap.prepared_files(project, {WIRING: "new wiring\n"}) as prepared:
        swap.replace_all([(project, _stage(project))], [prepared])
    assert raised.value.problems == ["overlays/: cannot replace: Invalid cross-device link"]
    assert _tracked(project) == OLD
    assert not swap.interrupted(project)


def test_a_file_that_cannot_be_linked_is_copied_so_its_replacement_can_be_undone(project, monkeypatch):
    def link(*_args, **_kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    real = os.replace

    def replace(source, target, *args, **kwargs):
        if Path(source).name == "gone.yaml":
            raise OSError(errno.EBUSY, "Device or resource busy", str(source))
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(swap.os, "link", link)
    monkeypatch.setattr(swap.os, "replace", replace)
    with pytest.raises(OutputError) as raised, swap.prepared_files(
            project, {WIRING: "new wiring\n"}, remove=["clusters/dev/gone.yaml"]) as prepared:
        swap.replace_all([(project, _stage(project))], [prepared])
    assert raised.value.problems == ["clusters/dev/gone.yaml: cannot remove: Device or resource busy"]
    assert _tracked(project) == OLD
    assert sorted(p.name for p in (project / "clusters/dev").iterdir()) == ["airflow.yaml", "gone.yaml"]


def test_a_rename_that_cannot_be_put_back_is_named_and_the_journal_stays(project, monkeypatch):
    real = os.replace

    def replace(source, target, *args, **kwargs):
        if Path(source).name == "gone.yaml" or ".gen-old-" in Path(source).name:
            raise OSError(errno.EIO, "Input/output error", str(source))
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(swap.os, "replace", replace)
    with pytest.raises(OutputError) as raised, swap.prepared_files(
            project, {WIRING: "new wiring\n"}, remove=["clusters/dev/gone.yaml"]) as prepared:
        swap.replace_all([(project, _stage(project))], [prepared])
    assert raised.value.problems == [
        "clusters/dev/gone.yaml: cannot remove: Input/output error",
        "clusters/dev/airflow.yaml: could not be put back (Input/output error); run gen synth again"]
    assert swap.interrupted(project)  # the next run finishes this one


def test_ctrl_c_between_two_renames_puts_back_and_is_raised_again(project, monkeypatch):
    real = swap._exchange

    def exchange(new, current):
        if current.name == "overlays" and new.parent == _stage(project):
            raise KeyboardInterrupt
        return real(new, current)

    monkeypatch.setattr(swap, "_exchange", exchange)
    with pytest.raises(KeyboardInterrupt):
        swap.replace_all([(project, _stage(project))], [])
    assert _tracked(project) == OLD
    assert not swap.interrupted(project)


def test_a_journal_that_cannot_be_written_stops_before_any_rename(project, monkeypatch):
    def write(target, _text):
        raise OutputError(f"{target}: cannot write here: No space left on device")

    monkeypatch.setattr(swap, "write_atomically", write)
    with pytest.raises(OutputError) as raised:
        swap.replace_all([(project, _stage(project))], [])
    assert raised.value.problems == [
        f"{swap.JOURNAL}: {project / swap.JOURNAL}: cannot write here: No space left on device; nothing was replaced"]
    assert _tracked(project) == OLD


# --- recovery: the next run finishes a run stopped between two renames ----------------------------------

def _stopped_after_dist(project: Path) -> None:
    """The state a run killed right after its first rename leaves: journal written, dist/ in, the rest not."""
    with swap.prepared_files(project, {WIRING: "new wiring\n"}, remove=["clusters/dev/gone.yaml"]) as prepared:
        swap._write_journal(project, swap._journal(project, _stage(project), prepared))
        assert swap._exchange(_stage(project) / "dist", project / "dist")
        prepared.writes.clear()  # a killed run leaves its temporary files; the journal names them
    entry = json.loads((project / swap.JOURNAL).read_text())
    for temporary, _target in entry["writes"]:
        (project / temporary).write_text("new wiring\n")


def test_recovery_finishes_the_trees_and_files_of_the_stopped_run(project):
    _stopped_after_dist(project)
    lines = swap.recover(project)
    assert lines == [f"an earlier gen run (pid {os.getpid()}) was stopped while it replaced dist/ and overlays/; "
                     f"gen finished it: both trees and the wiring files are now entirely that run's output"]
    assert _contents(project) == NEW
    assert not _stage(project).exists() and not swap.interrupted(project)
    assert swap.recover(project) == []


def test_a_new_tree_gone_from_the_stage_cannot_be_finished_and_is_named(project):
    _stopped_after_dist(project)
    (_stage(project) / "overlays" / "file.yaml").unlink()
    (_stage(project) / "overlays").rmdir()
    assert swap.recover(project) == [
        f"an earlier gen run was stopped while it replaced dist/ and overlays/, and gen could not finish it: "
        f"overlays/: the new tree is gone from {STAGING_PREFIX}test; run gen synth again; gen synth writes both "
        f"trees afresh"]
    assert not swap.interrupted(project)


def test_a_tree_that_cannot_be_put_in_place_is_named(project, monkeypatch):
    _stopped_after_dist(project)
    monkeypatch.setattr(swap, "_exchange", lambda new, current: False)
    real = Path.rename

    def rename(self, target):
        if self.name == "overlays" and self.parent == project:
            raise OSError(errno.EBUSY, "Device or resource busy", str(self))
        return real(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    assert "overlays/: cannot be put in place (Device or resource busy); run gen synth again" in swap.recover(
        project)[0]


def test_wiring_files_that_cannot_be_put_in_place_are_named(project, monkeypatch):
    _stopped_after_dist(project)

    def replace(source, target, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(target))

    monkeypatch.setattr(swap.os, "replace", replace)
    assert "the wiring files cannot be put in place (Read-only file system)" in swap.recover(project)[0]


@pytest.mark.parametrize("journal", [
    "not json",
    "[]",
    json.dumps({"pid": 1, "stage": f"{STAGING_PREFIX}x", "trees": {}, "writes": [], "removals": "no list"}),
    json.dumps({"pid": 1, "stage": "../elsewhere", "trees": {}, "writes": [], "removals": []}),
    json.dumps({"pid": 1, "stage": "not-a-stage", "trees": {}, "writes": [], "removals": []}),
    json.dumps({"pid": 1, "stage": f"{STAGING_PREFIX}x", "trees": {}, "writes": [["../a", "b"]], "removals": []}),
])
def test_a_journal_gen_did_not_write_is_never_followed(project, journal):
    (project / swap.JOURNAL).write_text(journal)
    before = _contents(project)
    assert swap.recover(project) == [
        f"an earlier gen run was stopped while it replaced dist/ and overlays/, and gen could not finish it: "
        f"{swap.JOURNAL} is not a journal gen wrote; gen synth writes both trees afresh"]
    assert _contents(project) == before and not swap.interrupted(project)
