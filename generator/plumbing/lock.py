"""One run at a time per project: the lock file `.gen-lock` beside gen.yaml.

The lock is flock(2) on that file: the kernel lets go of it when its process ends, however it ends, so
a lock left by a killed run is cleared by the next run without a word. The file names its holder (PID,
host, and the process's start time, so a PID used again by another process is not taken for the holder);
a refusal says whether the holder is alive and never advises deleting a lock that a live run holds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generator.plumbing.errors import OutputError
from generator.plumbing.output import printable

LOCK_FILE = ".gen-lock"
# File systems without flock(2) (some network mounts): the holder's liveness alone decides there.
_NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP}


def _process_start(pid: int) -> str | None:
    """The start of process `pid` (boot id and clock ticks since boot), or None when no such process runs."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            fields = stream.read().rsplit(b")", 1)[1].split()
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as stream:
            boot = stream.read().strip()
    except (OSError, IndexError):
        return None
    return f"{boot}/{fields[19].decode()}" if len(fields) > 19 else None


@dataclass(frozen=True)
class Holder:
    """Who wrote the lock file: `pid N on HOST, since TIME; start BOOT/TICKS`."""

    pid: int | None
    host: str
    start: str
    text: str

    @classmethod
    def parse(cls, text: str) -> Holder:
        words = text.replace(",", " ").replace(";", " ").split()
        pid = int(words[1]) if len(words) > 1 and words[0] == "pid" and words[1].isdigit() else None
        host = words[3] if len(words) > 3 and words[2] == "on" else ""
        start = words[words.index("start") + 1] if "start" in words[:-1] else ""
        return cls(pid, host, start, text)

    def alive(self) -> bool | None:
        """True or False for a holder on this host; None where it cannot be known (another host)."""
        if self.pid is None or self.host != socket.gethostname():
            return None
        return _process_start(self.pid) == self.start if self.start else _process_start(self.pid) is not None

    def describe(self) -> str:
        return printable(self.text.split(";")[0].strip()) or "a run that has not written its name yet"


def _own_line() -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return f"pid {os.getpid()} on {socket.gethostname()}, since {started}; start {_process_start(os.getpid())}\n"


def _holder(handle: int) -> Holder:
    try:
        return Holder.parse(os.pread(handle, 400, 0).decode("utf-8", "replace").strip())
    except OSError:
        return Holder.parse("")


def _kind(mode: int) -> str | None:
    """What a non-regular `.gen-lock` is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "a FIFO" if stat.S_ISFIFO(mode) else "a socket or device"


def _not_a_lock(path: Path, what: str) -> OutputError:
    return OutputError(f"{LOCK_FILE}: is {what}, not gen's lock file; gen takes this project's lock on a "
                       f"regular file of that name and follows nothing else: remove it (rm -r {path}) and run again")


def _held(path: Path, holder: Holder) -> OutputError:
    alive = holder.alive()
    who = holder.describe()
    if alive is False:
        return OutputError(f"{LOCK_FILE}: the gen run that took this project's lock ({who}) has ended, but a process "
                           f"it started still holds {path}; end that process (`fuser -v {path}` names it) and run "
                           f"again; the lock clears by itself once nothing holds it")
    where = "" if alive else " (on another host, or not yet named: gen cannot see whether it still runs)"
    stop = f"stop it (kill {holder.pid}) if it hangs" if holder.pid and alive else "stop it if it hangs"
    return OutputError(f"{LOCK_FILE}: another gen run holds this project's lock ({who}){where}; wait for it to "
                       f"end, or {stop}; the lock clears by itself when that run ends")


def _open(path: Path) -> int:
    """The lock file, created when missing; anything but a regular file is refused, naming the lock."""
    with contextlib.suppress(FileNotFoundError):
        what = _kind(os.lstat(path).st_mode)
        if what:
            raise _not_a_lock(path, what)
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):  # replaced since the lstat
            raise _not_a_lock(path, "not a regular file") from None
        raise OutputError(f"{LOCK_FILE}: {path} cannot be created, so no run can take this project's lock "
                          f"({exc.strerror}); make {path.parent} writable") from None
    what = _kind(os.fstat(handle).st_mode)
    if what:
        os.close(handle)
        raise _not_a_lock(path, what)
    return handle


def _take(handle: int, path: Path) -> None:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(handle)
        os.close(handle)
        raise _held(path, holder) from None
    except OSError as exc:
        holder = _holder(handle)
        if exc.errno in _NO_FLOCK and holder.alive() is not True:
            return  # no flock here: a holder that is gone left a dead lock, which this run clears
        os.close(handle)
        if exc.errno in _NO_FLOCK:
            raise _held(path, holder) from None
        raise OutputError(f"{LOCK_FILE}: cannot take this project's lock: {exc.strerror}") from None


@contextmanager
def project_lock(project_dir: Path) -> Iterator[None]:
    """Hold the project's lock for a whole run, so two runs (an editor's save hook and pre-commit) never
    replace each other's trees or remove each other's staging directory. The file is removed as the run ends."""
    path = project_dir / LOCK_FILE
    while True:
        handle = _open(path)
        _take(handle, path)
        # The run that held the lock removes the file as it ends: then this lock is on a file no other run
        # sees, and the path must be opened again.
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(handle).st_ino
        except OSError:
            same = False
        if same:
            break
        os.close(handle)
    try:
        os.ftruncate(handle, 0)
        os.pwrite(handle, _own_line().encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(handle)
