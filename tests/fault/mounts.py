"""Filesystems that refuse writes, for the fault tests. Root ignores file modes, so
`chmod` cannot make a store unwritable here; a read-only bind mount and a small tmpfs
filled to the last byte can (both need root and mount(8); tests skip otherwise)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise OSError(f"mount {' '.join(args)}: {result.stderr.strip()}")


def _umount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True, timeout=30).returncode != 0:
        # Busy (a file still open on it): detach it now, the kernel frees it when closed.
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30, check=False)


def require_mount() -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root and mount(8)")


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` (a file or a directory) bind-mounted read-only over itself."""
    require_mount()
    try:
        _mount("--bind", str(path), str(path))
    except OSError as exc:
        pytest.skip(str(exc))
    try:
        _mount("-o", "remount,ro,bind", str(path))
        yield path
    finally:
        _umount(path)


@contextlib.contextmanager
def small_tmpfs(path: Path, size_kib: int = 1024) -> Iterator[Path]:
    """A tmpfs of `size_kib` KiB mounted at `path` (created)."""
    require_mount()
    path.mkdir(parents=True, exist_ok=True)
    try:
        _mount("-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(path))
    except OSError as exc:
        pytest.skip(str(exc))
    try:
        yield path
    finally:
        _umount(path)


def fill(directory: Path, name: str = "filler") -> Path:
    """Write zeros into `directory` until its filesystem has no byte left (bounded)."""
    filler = directory / name
    with filler.open("wb", buffering=0) as fh:
        for size in (65536, 4096, 1):  # then smaller writes, for what a large one left
            for _ in range(1 << 16):
                try:
                    if fh.write(b"\0" * size) < size:
                        break
                except OSError:
                    break
    return filler
