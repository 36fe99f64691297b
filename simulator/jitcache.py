"""Keep numba's on-disk cache (``cache=True``) honest across modules.

Numba invalidates a cached function only when its own source file changes, yet the cached machine code
contains every jitted function it calls -- ``distributions.kernels.v_of_q``, the generator of ``rng.py``. After
an edit there, the kernels would silently run the old code. ``refresh`` therefore fingerprints the sources a
kernel module depends on and deletes that module's cache files when the fingerprint changed (numba reads them
only at the first call, so doing this at import is in time). It handles numba's default cache location (the
``__pycache__`` folder beside the source); with NUMBA_CACHE_DIR set, clear that folder after such edits.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def refresh(module_file: str, dependencies) -> None:
    """Delete ``module_file``'s numba cache files if any of the ``dependencies`` (modules or paths) changed."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    source = Path(module_file)
    digest = hashlib.sha256()
    for dep in dependencies:
        path = Path(getattr(dep, "__file__", dep))
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(str(path).encode())
    cache_dir = source.parent / "__pycache__"
    stamp = cache_dir / f"{source.stem}.deps"
    try:
        if stamp.read_text() == digest.hexdigest():
            return
    except OSError:  # no stamp yet: the cache files (if any) are of unknown provenance
        pass
    try:
        for pattern in (f"{source.stem}.*.nbi", f"{source.stem}.*.nbc"):
            for path in cache_dir.glob(pattern):
                path.unlink(missing_ok=True)
        cache_dir.mkdir(exist_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:  # a read-only install: numba then caches elsewhere or not at all
        pass
