"""Atomic file writes: a crash mid-write leaves the old file, never half a new one."""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

Writer = Callable[[Path], None]


def write_atomic(path: str | os.PathLike, write: Writer) -> Path:
    """Call ``write(tmp_path)`` then move the finished file onto ``path``."""
    return write_all_atomic([(path, write)])[0]


def write_all_atomic(files: Sequence[tuple[str | os.PathLike, Writer]]) -> list[Path]:
    """Write several files all or nothing.

    Each ``write(tmp_path)`` fills a temporary file next to its target, which is flushed to
    disk; only when every one is complete are they moved onto their targets (``os.replace``,
    atomic per file). If any write fails, or the process is interrupted before the moves,
    every target keeps its old content and no temporary file is left behind.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target, write in files:
            path = Path(target)
            _check_folder(path)
            remove_stale_temporaries(path)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            staged.append((Path(tmp), path))
            try:
                write(Path(tmp))
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
            except OSError as exc:
                if exc.errno is None:
                    raise
                # name the file the caller asked for, not the temporary one
                raise OSError(exc.errno, exc.strerror, str(path)) from exc
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    return [path for _, path in staged]


def remove_stale_temporaries(path: str | os.PathLike, *, any_process: bool = False) -> list[Path]:
    """Remove the temporary files that killed writers of ``path`` left next to it.

    A temporary file is ``.NAME.PID.XXXX.tmp``; it is removed when process ``PID`` no longer
    runs (or, with ``any_process``, always: the caller holds a lock on the folder). Other
    files are never touched. Returns the files removed.
    """
    path = Path(path)
    removed = []
    prefix = f".{path.name}."
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(prefix) :].split(".", 1)[0]
        if not pid.isdigit() or not tmp.is_file():
            continue
        if any_process or not _running(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or not ours to judge: keep its file
    return True


def _check_folder(path: Path) -> None:
    folder = path.parent
    if folder.is_dir():
        return
    if folder.exists():
        raise NotADirectoryError(f"cannot write {path}: {folder} is a file, not a folder")
    raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
