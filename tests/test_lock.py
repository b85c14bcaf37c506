"""The lock tells the truth: anything but a regular `.gen-lock` is refused in a line that blames the lock; a
live holder is named with how to stop it, never with advice to delete its lock; a dead one is cleared."""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from generator.plumbing import lock
from generator.plumbing.errors import OutputError


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _directory(path: Path) -> None:
    path.mkdir()
    (path / "inside").write_text("x\n")


def _link_to_a_file(path: Path) -> None:
    (path.parent / "elsewhere").write_text("x\n")
    path.symlink_to(path.parent / "elsewhere")


def _dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "missing")


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


NOT_A_LOCK = {"a FIFO": _fifo, "a directory": _directory, "a link to a file": _link_to_a_file,
              "a dangling link": _dangling_link, "a socket": _socket}


@pytest.mark.parametrize("kind", sorted(NOT_A_LOCK))
def test_a_lock_that_is_no_regular_file_is_refused_blaming_the_lock(tmp_path, kind):
    path = tmp_path / lock.LOCK_FILE
    NOT_A_LOCK[kind](path)
    with pytest.raises(OutputError) as caught, lock.project_lock(tmp_path):
        pass
    [line] = caught.value.problems
    assert line.startswith(f"{lock.LOCK_FILE}: is ") and "not gen's lock file" in line
    assert f"rm -r {path}" in line and "cannot write here" not in line
    assert os.path.lexists(path)  # gen names it and touches nothing


HOLDER = [sys.executable, "-c", "import sys, time; from pathlib import Path; from generator.plumbing import lock\n"
          "with lock.project_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(600)"]


def test_a_live_holder_is_named_and_its_lock_is_never_to_be_deleted(tmp_path):
    holder = subprocess.Popen([*HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(OutputError) as caught, lock.project_lock(tmp_path):
            pass
    finally:
        holder.kill()
        holder.communicate()
    [line] = caught.value.problems
    assert f"pid {holder.pid} on {socket.gethostname()}" in line and f"kill {holder.pid}" in line
    assert "delete" not in line and "rm " not in line


@pytest.mark.parametrize("content", [
    "pid 999999 on {host}, since 2026-01-01 00:00:00 UTC; start x/1\n",  # a PID no process has
    "pid {me} on {host}, since 2026-01-01 00:00:00 UTC; start another-boot/1\n",  # this PID, another process
    "pid 1 on elsewhere, since long ago\n",
    "",
    "\x00\xff garbage",
])
def test_a_lock_left_by_a_run_that_is_gone_is_cleared_by_itself(tmp_path, content):
    (tmp_path / lock.LOCK_FILE).write_text(content.format(host=socket.gethostname(), me=os.getpid()))
    with lock.project_lock(tmp_path):
        line = (tmp_path / lock.LOCK_FILE).read_text()
        assert line.startswith(f"pid {os.getpid()} on {socket.gethostname()}")
    assert not (tmp_path / lock.LOCK_FILE).exists()


@pytest.mark.parametrize(("text", "alive"), [
    ("pid {me} on {host}, since now; start {start}", True),
    ("pid {me} on {host}, since now; start not-this-one", False),
    ("pid 999999 on {host}, since now; start x", False),
    ("pid {me} on another-host, since now; start {start}", None),
    ("nothing written yet", None),
])
def test_whether_the_holder_is_alive_takes_its_pid_and_start_time(text, alive):
    filled = text.format(me=os.getpid(), host=socket.gethostname(), start=lock._process_start(os.getpid()))
    assert lock.Holder.parse(filled).alive() is alive


# --- a lock held through a second open file, and the races and file systems around it ------------------


@pytest.fixture
def held(tmp_path):
    """Write `text` as the holder's line and hold the lock through an open file of its own, as another run would."""
    handles = []

    def hold(text: str) -> Path:
        path = tmp_path / lock.LOCK_FILE
        path.write_text(text.format(me=os.getpid(), host=socket.gethostname(), start=lock._process_start(os.getpid())))
        handles.append(os.open(path, os.O_RDWR))
        fcntl.flock(handles[-1], fcntl.LOCK_EX | fcntl.LOCK_NB)
        return path

    yield hold
    for handle in handles:
        os.close(handle)


def _refusal(tmp_path: Path) -> str:
    with pytest.raises(OutputError) as caught, lock.project_lock(tmp_path):
        pass
    [line] = caught.value.problems
    return line


def test_a_lock_held_after_its_run_ended_names_the_process_to_end(tmp_path, held):
    path = held("pid 999999 on {host}, since then; start x/1\n")
    assert _refusal(tmp_path) == (
        f"{lock.LOCK_FILE}: the gen run that took this project's lock (pid 999999 on {socket.gethostname()}, since "
        f"then) has ended, but a process it started still holds {path}; end that process (`fuser -v {path}` names "
        f"it) and run again; the lock clears by itself once nothing holds it")


def test_a_holder_gen_cannot_see_is_said_to_be_unknown_and_never_to_be_deleted(tmp_path, held, monkeypatch):
    held("pid 1 on elsewhere, since then\n")
    line = _refusal(tmp_path)
    assert "(pid 1 on elsewhere, since then) (on another host, or not yet named" in line
    assert "stop it if it hangs" in line and "kill" not in line and "rm " not in line

    def pread(*_args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(lock.os, "pread", pread)
    assert "(a run that has not written its name yet)" in _refusal(tmp_path)


@pytest.mark.parametrize("holder, taken", [("pid 999999 on {host}, since then; start x/1\n", True),
                                           ("pid {me} on {host}, since then; start {start}\n", False)])
def test_without_flock_the_holders_liveness_alone_decides(tmp_path, monkeypatch, holder, taken):
    (tmp_path / lock.LOCK_FILE).write_text(
        holder.format(me=os.getpid(), host=socket.gethostname(), start=lock._process_start(os.getpid())))

    def flock(*_args):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock.fcntl, "flock", flock)
    if taken:
        with lock.project_lock(tmp_path):
            assert (tmp_path / lock.LOCK_FILE).read_text().startswith(f"pid {os.getpid()} ")
    else:
        assert f"another gen run holds this project's lock (pid {os.getpid()} " in _refusal(tmp_path)


def test_a_lock_that_fails_otherwise_is_one_line(tmp_path, monkeypatch):
    def flock(*_args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(lock.fcntl, "flock", flock)
    assert _refusal(tmp_path) == f"{lock.LOCK_FILE}: cannot take this project's lock: Input/output error"


@pytest.mark.parametrize("code, expected", [
    (errno.EACCES, "cannot be created, so no run can take this project's lock (Permission denied); make {dir} "
                   "writable"),
    (errno.ELOOP, "is not a regular file, not gen's lock file"),
])
def test_a_lock_file_that_cannot_be_opened_is_one_line(tmp_path, monkeypatch, code, expected):
    def open_(*_args, **_kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(lock.os, "open", open_)
    assert expected.format(dir=tmp_path) in _refusal(tmp_path)


def test_a_lock_file_replaced_by_a_fifo_after_its_check_is_refused(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / lock.LOCK_FILE)
    monkeypatch.setattr(lock.os, "lstat", lambda path: (_ for _ in ()).throw(FileNotFoundError(path)))
    assert _refusal(tmp_path).startswith(f"{lock.LOCK_FILE}: is a FIFO, not gen's lock file")


@pytest.mark.parametrize("replace", [True, False])
def test_a_lock_whose_file_the_last_holder_removed_is_taken_again_on_the_new_file(tmp_path, monkeypatch, replace):
    path = tmp_path / lock.LOCK_FILE
    real, calls = lock._take, []

    def take(handle, where):
        real(handle, where)
        calls.append(handle)
        if len(calls) == 1:  # the run that held it ends now: it removes the file (and another may make one)
            path.unlink()
            if replace:
                path.write_text("")

    monkeypatch.setattr(lock, "_take", take)
    with lock.project_lock(tmp_path):
        assert len(calls) == 2
        assert os.fstat(calls[1]).st_ino == path.stat().st_ino
        assert path.read_text().startswith(f"pid {os.getpid()} ")
    assert not path.exists()
