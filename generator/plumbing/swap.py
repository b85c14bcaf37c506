"""Swapping generated trees and files into the project: all or nothing.

Each tree is swapped in with one atomic rename (renameat2 RENAME_EXCHANGE on Linux) and each file with
another; a rename that fails puts back every one already made, so a failed run changes nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import functools
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generator.plumbing.errors import ConfigError, OutputError
from generator.plumbing.output import STAGING_PREFIX, TREES, temporary_beside, write_atomically
from generator.plumbing.yamlio import read_text

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@functools.cache  # find_library runs `ldconfig -p`: once per process, not once per swap
def _libc_renameat2() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    try:
        fn = ctypes.CDLL(name, use_errno=True).renameat2 if name else None
    except AttributeError:
        return None
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


def _exchange(new: Path, current: Path) -> bool:
    """Atomically swap two directories; False where the OS cannot."""
    fn = _libc_renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(current), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(current))


_FS_IOC_GETFLAGS = 0x80086601
_FS_IMMUTABLE_FL, _FS_APPEND_FL = 0x10, 0x20


def _attribute_flags(path: Path) -> int:
    """The file's chattr flags (0 where the file system has none)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return 0
    try:
        buffer = bytearray(8)
        fcntl.ioctl(handle, _FS_IOC_GETFLAGS, buffer)
        return int.from_bytes(buffer[:4], "little")
    except OSError:
        return 0
    finally:
        os.close(handle)


def swap_problems(project_dir: Path, stage: Path) -> list[str]:
    """What would make a tree's swap fail, found before any swap: an immutable, append-only or read-only
    directory (moving a directory to another parent rewrites its `..`, which needs write permission)."""
    found = []
    for name in TREES:
        current = project_dir / name
        if not (stage / name).exists() or not current.is_dir() or current.is_symlink():
            continue
        flags = _attribute_flags(current)
        if flags & (_FS_IMMUTABLE_FL | _FS_APPEND_FL):
            which = "immutable" if flags & _FS_IMMUTABLE_FL else "append-only"
            found.append(f"{name}/: is {which} (chattr); gen replaces it with a new directory and cannot; "
                         f"remove the flag (chattr -i -a {name}) and run again")
        elif not os.access(current, os.W_OK | os.X_OK):
            found.append(f"{name}/: is read-only; gen replaces it with a new directory, which needs write "
                         f"permission on it; make it writable (chmod u+w {name}) and run again")
    return found


def _first_link(project_dir: Path, relative: str) -> str | None:
    path = project_dir
    for part in relative.split("/"):
        path = path / part
        if path.is_symlink():
            return path.relative_to(project_dir).as_posix()
    return None


@dataclass
class PreparedFiles:
    """Single files written beside their targets, ready to be renamed over them."""

    project_dir: Path
    writes: list[tuple[Path, Path]] = field(default_factory=list)  # (temporary, target)
    removals: list[Path] = field(default_factory=list)
    made_dirs: list[Path] = field(default_factory=list)


def _file_problems(project_dir: Path, relatives: Sequence[str], writes: Mapping[str, str]) -> list[str]:
    root = project_dir.resolve()
    found = []
    for relative in relatives:
        target = project_dir / relative
        try:
            resolved = target.resolve()
        except (OSError, RuntimeError):
            resolved = None
        if resolved is None or (resolved != root and root not in resolved.parents):
            link = _first_link(project_dir, relative)
            via = f" ({link} is a symbolic link to {os.readlink(project_dir / link)})" if link else ""
            found.append(f"{relative}: would be written outside {project_dir}{via}; gen writes only inside the "
                         f"project: replace the link with a directory")
            continue
        if relative in writes and target.is_dir():
            found.append(f"{relative}: is a directory where gen writes this file; move it away and run again")
            continue
        for parent in target.parents:
            if parent == project_dir or project_dir not in parent.parents:
                break
            if parent.exists() and not parent.is_dir():
                found.append(f"{relative}: {parent.relative_to(project_dir).as_posix()} is a file where gen needs "
                             f"a directory; move it away and run again")
                break
    return found


@contextmanager
def prepared_files(project_dir: Path, files: Mapping[str, str], remove: Sequence[str] = ()) -> Iterator[PreparedFiles]:
    """Check and write single files that live among the user's own (clusters/<name>/airflow.yaml) to
    temporary files beside them, so that putting them in place is one rename each. `remove` lists files gen
    wrote earlier and no longer generates. Whatever is not put in place is removed again on exit, with
    the directories this made."""
    problems = _file_problems(project_dir, [*files, *remove], files)
    if problems:
        raise OutputError(problems)
    prepared = PreparedFiles(project_dir)
    try:
        for relative, text in sorted(files.items()):
            target = project_dir / relative
            missing = [p for p in reversed(target.parents) if project_dir in p.parents and not p.exists()]
            for directory in missing:
                try:
                    directory.mkdir()
                except OSError as exc:
                    raise OutputError(f"{relative}: cannot write: {exc.strerror}") from None
                prepared.made_dirs.append(directory)
            prepared.writes.append((temporary_beside(target, text), target))
        prepared.removals = [project_dir / relative for relative in remove]
        yield prepared
    finally:
        for temporary, _target in prepared.writes:
            with contextlib.suppress(OSError):
                temporary.unlink()
        for directory in reversed(prepared.made_dirs):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only if still empty: a committed file keeps it


class Swap:
    """Every rename of one run, across all its trees and files; `undo` puts back, newest first, every one
    already made, so a rename that fails late leaves the project as it was."""

    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], None]]] = []
        self._backups: list[Path] = []

    def trees(self, project_dir: Path, stage: Path) -> None:
        """Put stage/dist and stage/overlays in place of the project's; the old trees end up in `stage`."""
        for name in TREES:
            new, current = stage / name, project_dir / name
            if not new.exists():
                continue
            try:
                if not current.exists():
                    new.rename(current)
                    self._undo.append((f"{name}/", functools.partial(current.rename, new)))
                elif _exchange(new, current):
                    self._undo.append((f"{name}/", functools.partial(_exchange_or_fail, new, current)))
                else:
                    # Fallback: two renames; a crash between them leaves the old tree in `stage`.
                    old = stage / f"{name}.old"
                    current.rename(old)
                    self._undo.append((f"{name}/", functools.partial(old.rename, current)))
                    new.rename(current)
                    self._undo.append((f"{name}/", functools.partial(current.rename, new)))
            except OSError as exc:
                raise OutputError(f"{name}/: cannot replace: {exc.strerror}") from None

    def files(self, prepared: PreparedFiles) -> None:
        for temporary, target in prepared.writes:
            relative = target.relative_to(prepared.project_dir).as_posix()
            try:
                backup = self._keep(target)
                os.replace(temporary, target)
            except OSError as exc:
                raise OutputError(f"{relative}: cannot replace: {exc.strerror}") from None
            undo = functools.partial(os.replace, backup, target) if backup else functools.partial(os.unlink, target)
            self._undo.append((relative, undo))
        for target in prepared.removals:
            if not os.path.lexists(target):
                continue
            relative = target.relative_to(prepared.project_dir).as_posix()
            backup = target.with_name(f".{target.name}.gen-old-{os.getpid()}")
            try:
                os.replace(target, backup)
            except OSError as exc:
                raise OutputError(f"{relative}: cannot remove: {exc.strerror}") from None
            self._backups.append(backup)
            self._undo.append((relative, functools.partial(os.replace, backup, target)))

    def _keep(self, target: Path) -> Path | None:
        """A hard link to the file about to be replaced, so the replacement can be undone."""
        if not os.path.lexists(target):
            return None
        backup = target.with_name(f".{target.name}.gen-old-{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            backup.unlink()
        try:
            os.link(target, backup, follow_symlinks=False)
        except OSError:
            shutil.copy2(target, backup, follow_symlinks=False)
        self._backups.append(backup)
        return backup

    def undo(self) -> list[str]:
        """Put back every rename made, newest first; a line for each that could not be put back."""
        failed = []
        for what, step in reversed(self._undo):
            try:
                step()
            except OSError as exc:
                failed.append(f"{what}: could not be put back ({exc.strerror}); run gen synth again")
        self._undo.clear()
        self.forget_backups()
        return failed

    def forget_backups(self) -> None:
        for backup in self._backups:
            with contextlib.suppress(OSError):
                backup.unlink()
        self._backups.clear()


def _exchange_or_fail(new: Path, current: Path) -> None:
    if not _exchange(new, current):
        raise OSError(errno.ENOTSUP, os.strerror(errno.ENOTSUP), str(current))


# --- the journal: a run stopped between two renames is finished by the next ------------------------------

JOURNAL = ".gen-journal"


def _journal(project_dir: Path, stage: Path, prepared: PreparedFiles | None) -> dict:
    """What this run's renames in `project_dir` will be, in names relative to it; the trees by inode."""
    trees = {name: os.lstat(stage / name).st_ino for name in TREES if (stage / name).exists()}
    def inside(path: Path) -> str:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(project_dir))).as_posix()

    writes = [[inside(t), inside(g)] for t, g in (prepared.writes if prepared else [])]
    removals = [inside(r) for r in (prepared.removals if prepared else [])]
    return {"pid": os.getpid(), "stage": stage.name, "trees": trees, "writes": writes, "removals": removals}


def _write_journal(project_dir: Path, entry: dict) -> None:
    try:
        write_atomically(project_dir / JOURNAL, json.dumps(entry, sort_keys=True))
    except OutputError as exc:
        raise OutputError(f"{JOURNAL}: {exc.problems[0]}; nothing was replaced") from None


def replace_all(trees: Sequence[tuple[Path, Path]], files: Sequence[PreparedFiles]) -> None:
    """Swap in every project's trees, then every single file, as one step: if any rename fails, each one
    already made is put back, and the OutputError names the one that failed. Each project's renames are
    written to its journal first, so a run killed between two renames is finished by the next (recover)."""
    by_project = {prepared.project_dir: prepared for prepared in files}
    for project_dir, stage in trees:
        _write_journal(project_dir, _journal(project_dir, stage, by_project.get(project_dir)))
    swap = Swap()
    try:
        for project_dir, stage in trees:
            swap.trees(project_dir, stage)
        for prepared in files:
            swap.files(prepared)
    except BaseException as exc:  # Ctrl-C between two renames too
        failed = swap.undo()
        if not failed:
            _forget_journals(trees)
        if isinstance(exc, OutputError):
            raise OutputError([*exc.problems, *failed]) from None
        raise
    _forget_journals(trees)
    swap.forget_backups()


def _forget_journals(trees: Sequence[tuple[Path, Path]]) -> None:
    for project_dir, _stage in trees:
        with contextlib.suppress(OSError):
            (project_dir / JOURNAL).unlink()


def interrupted(project_dir: Path) -> bool:
    """Whether a run was stopped while it replaced this project's trees (its journal is still there)."""
    return os.path.lexists(project_dir / JOURNAL)


def _inode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_ino
    except OSError:
        return None


def _finish_tree(project_dir: Path, stage: Path, name: str, inode: int) -> str | None:
    """Put the new tree (known by its inode) in place if it is not yet; a line when that is impossible."""
    current, new = project_dir / name, stage / name
    if _inode(current) == inode:
        return None
    if _inode(new) != inode:
        return f"{name}/: the new tree is gone from {stage.name}; run gen synth again"
    try:
        if not os.path.lexists(current):
            new.rename(current)
        elif not _exchange(new, current):
            current.rename(stage / f"{name}.old")
            new.rename(current)
    except OSError as exc:
        return f"{name}/: cannot be put in place ({exc.strerror}); run gen synth again"
    return None


def _finish_files(project_dir: Path, entry: dict) -> None:
    for temporary, target in entry["writes"]:
        if os.path.lexists(project_dir / temporary):
            os.replace(project_dir / temporary, project_dir / target)
    for target in entry["removals"]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(project_dir / target)
    for target in [target for _temporary, target in entry["writes"]] + entry["removals"]:
        backup = (project_dir / target).with_name(f".{Path(target).name}.gen-old-{entry['pid']}")
        with contextlib.suppress(OSError):
            backup.unlink()


def _read_journal(project_dir: Path) -> dict | None:
    try:
        entry = json.loads(read_text(Path(JOURNAL), JOURNAL, within=project_dir))
    except (ConfigError, ValueError):
        return None
    shape = {"pid": int, "stage": str, "trees": dict, "writes": list, "removals": list}
    if not isinstance(entry, dict) or any(not isinstance(entry.get(k), t) for k, t in shape.items()):
        return None
    names = [entry["stage"], *entry["removals"], *(p for pair in entry["writes"] for p in pair)]
    plain = all(isinstance(n, str) and n and not n.startswith("/") and ".." not in n.split("/") for n in names)
    if not plain or not entry["stage"].startswith(STAGING_PREFIX) or "/" in entry["stage"]:
        return None
    return entry


def recover(project_dir: Path) -> list[str]:
    """Finish the renames of a run that was stopped between two of them (under the project's lock, before
    anything else); one line saying what was done. What cannot be finished is named, and the journal goes:
    the next gen synth writes both trees afresh."""
    if not interrupted(project_dir):
        return []
    entry = _read_journal(project_dir)
    if entry is None:
        problems = [f"{JOURNAL} is not a journal gen wrote"]
    else:
        stage = project_dir / entry["stage"]
        problems = [p for name, inode in sorted(entry["trees"].items()) if name in TREES
                    for p in [_finish_tree(project_dir, stage, name, inode)] if p]
        if not problems:
            try:
                _finish_files(project_dir, entry)
            except OSError as exc:
                problems.append(f"the wiring files cannot be put in place ({exc.strerror})")
            shutil.rmtree(stage, ignore_errors=True)
    with contextlib.suppress(OSError):
        (project_dir / JOURNAL).unlink()
    if problems:
        return [f"an earlier gen run was stopped while it replaced dist/ and overlays/, and gen could not finish "
                f"it: {'; '.join(problems)}; gen synth writes both trees afresh"]
    return [f"an earlier gen run (pid {entry['pid']}) was stopped while it replaced dist/ and overlays/; gen "
            f"finished it: both trees and the wiring files are now entirely that run's output"]
