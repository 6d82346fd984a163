"""Disk cache of symbolic derivations, keyed by every module they import.

A SymPy derivation takes seconds to minutes; its result (a pickled
`Derivation` or dict of expressions) only changes when the code that builds
it changes. The key is therefore the SHA-256 of the source of the module that
builds it *and of every ``ufm`` module it imports, transitively* (found by
reading the ``import`` statements, not by running anything), plus SymPy's
version. Editing a helper such as ``ufm.core.ij_algebra`` invalidates every
derivation that uses it.

The folder is ``$UFM_CACHE_DIR``, else ``$XDG_CACHE_HOME/ufm``, else
``~/.cache/ufm``. A failing cache (read-only disk, corrupt file) falls back
to recomputing, because it only ever saves time.

>>> files = source_closure("ufm.nc.minimizer.derivation")
>>> any(f.endswith("ij_algebra.py") for f in files)
True
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
import pathlib
import pickle

import sympy as sp


def cache_dir() -> pathlib.Path:
    """The user cache folder of ufm (derivations and compiled programs)."""
    base = os.environ.get("UFM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "ufm"
    )
    return pathlib.Path(base)


def _imported_ufm_modules(path: str, name: str) -> set[str]:
    tree = ast.parse(pathlib.Path(path).read_text())
    package = name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "ufm")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against this package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.split(".")[0] != "ufm":
                continue
            found.add(base)
            # `from ufm.x import y`: y may itself be a module
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


@functools.lru_cache(maxsize=None)
def source_closure(module: str) -> tuple[str, ...]:
    """Source files of `module` and of every ufm module it imports, transitively."""
    seen: dict[str, str] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen or name == "ufm":
            continue
        spec = _spec(name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        seen[name] = spec.origin
        todo.extend(_imported_ufm_modules(spec.origin, name))
    return tuple(sorted(seen.values()))


def _spec(name: str):
    """The module spec of `name`, or None where `name` is not a module
    (``from ufm.x import function`` lists the function's name too)."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, AttributeError, ValueError):
        return None


def key(module: str) -> str:
    """The cache key of a derivation built in `module`."""
    h = hashlib.sha256()
    for f in source_closure(module):
        h.update(pathlib.Path(f).read_bytes())
    h.update(sp.__version__.encode())
    return h.hexdigest()[:16]


def cached(builder, module: str, name: str):
    """``builder()``, pickled on disk under `name` and the key of `module`."""
    path = cache_dir() / f"{name}-{key(module)}.pkl"
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # missing or unreadable: recompute
        pass
    result = builder()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            pickle.dump(result, fh)
        os.replace(tmp, path)
    except Exception:  # a read-only cache only costs time
        pass
    return result


def enable_compilation_cache() -> pathlib.Path | None:
    """Switch on JAX's persistent compilation cache in ``cache_dir()/jax``.

    Entry points call this once (the CLI, ``tests/conftest.py``): a compiled
    solve or sweep is then reused by the next process instead of being
    compiled again. ``UFM_NO_COMPILATION_CACHE=1`` opts out. Every program is
    stored, the small ones too: a verify run compiles hundreds of small
    kernels (the eager metric and measurement code), and reading them back
    is what takes `--only minimizer` from 4.6 s to 2.6 s here (about 13 MB
    of cache for a default run). Returns the folder, or None when opted out.
    """
    if os.environ.get("UFM_NO_COMPILATION_CACHE", "") not in ("", "0"):
        return None
    import jax

    folder = cache_dir() / "jax"
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder
