"""What every output format shares: JSON-safe values and atomic file writes (``docs/architecture.md``,
"Outputs")."""
from __future__ import annotations

import math
import os
import tempfile

import numpy as np


def json_safe(obj):
    """JSON-safe: numpy scalars to Python, NaN/inf to null."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def json_value(obj):
    """JSON-safe for the command line: numpy scalars to Python, NaN (no value) to null, and an infinite value
    to the string ``"inf"`` / ``"-inf"`` (JSON has no infinity, and null would read as "no value")."""
    if isinstance(obj, dict):
        return {k: json_value(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_value(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        if math.isnan(f):
            return None
        return f if math.isfinite(f) else ("inf" if f > 0 else "-inf")
    return obj


def write_atomic(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (``replace_atomic``)."""
    replace_atomic(path, lambda fh: fh.write(text))


def replace_atomic(path, write, binary: bool = False) -> None:
    """Call ``write(file)`` on a temporary file in the same folder as ``path`` (same extension), then rename it
    to ``path``: a reader (or a concurrent run) never sees a half-written file, and on failure no temporary
    file is left. The file gets the permissions a plain open() would give."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as fh:
            write(fh)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _mode_for(path: str) -> int:
    """The permissions the file would get from a plain open(): the existing file's, else 0o666 less the umask
    (``mkstemp`` makes its file 0o600)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
