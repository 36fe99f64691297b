"""Keep numba's on-disk cache (``cache=True``) honest across modules.

Numba invalidates a cached function only when its own source file changes, yet the cached machine code
contains every jitted function it calls -- ``distributions.kernels.v_of_q``, the generator of ``rng.py``. After
an edit there, the kernels would silently run the old code. ``refresh`` therefore fingerprints the sources a
kernel module depends on and deletes that module's cache files when the fingerprint changed (numba reads them
only at the first call). Importing a kernel module only ``register``s its dependencies; ``refresh_all`` checks
them, once per process, and is called where kernels are first run (``engine.simulate``, the Dask workers'
loader, the test session), so that no import deletes files. It handles numba's default cache location (the
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


#: kernel module file -> the modules or paths its cached machine code depends on (``register``)
REGISTERED: dict[str, tuple] = {}
#: module files already refreshed in this process
_DONE: set[str] = set()


def register(module_file: str, dependencies) -> None:
    """Record a kernel module's dependencies for ``refresh_all`` (no file is touched here)."""
    REGISTERED[module_file] = tuple(dependencies)


def refresh_all() -> None:
    """``refresh`` every registered kernel module not yet refreshed in this process (before its first call)."""
    for module_file, dependencies in list(REGISTERED.items()):
        if module_file not in _DONE:
            refresh(module_file, dependencies)
            _DONE.add(module_file)
