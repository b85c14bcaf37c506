"""The lock tells the truth: anything but a regular `.gen-lock` is refused in a line that blames the lock; a
live holder is named with how to stop it, never with advice to delete its lock; a dead one is cleared."""

from __future__ import annotations

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
