"""An output folder written as one unit: staged, locked, with a manifest, moved into place.

A command that writes several files into a folder (``python -m simulate run``,
``python -m calibrate demo``, :func:`simulate.io.write_run`) opens it with
:func:`output_folder`:

1. **Checks first.** The folder is not a file; no input of the run lies inside it (the
   folder is replaced as a whole); the folder holds nothing but the outputs of an earlier
   run, as its ``manifest.json`` lists them with their checksums. A file the manifest does
   not list, or one changed since it was written, is the user's: the run is refused and
   the file is left alone (never deleted, never moved).
2. **A lock.** ``.NAME.lock`` next to the folder is held (``flock``) for the whole run; a
   second writer to the same folder gets a clear error at once. The operating system
   releases the lock of a killed process, so a killed run never blocks the next one.
3. **Leftovers cleaned.** Under the lock, staging folders and temporary files left by
   killed runs are removed; a folder moved aside by a run killed between its two renames
   is put back.
4. **Staging.** The caller writes into ``.NAME.staging-PID-XXXX`` next to the folder.
5. **Moved into place.** With a ``manifest.json`` (format, package version, command,
   seed, the inputs' fingerprints, every file's checksum) added, the staging folder
   replaces the old folder: the old one is renamed aside, the new one renamed into place,
   the old one removed. A failure or a kill before that leaves the old folder as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: an exclusive lock file instead
    fcntl = None

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "leadfunnel.output/1"
_STAGING = ".staging-"
_ASIDE = ".old-"


class OutputFolderError(OSError):
    """An output folder that cannot be written now; the message says why and what to do."""

    def __str__(self) -> str:  # OSError would add "[Errno ...]" for some argument shapes
        return str(self.args[0])


def package_version() -> str:
    """The installed leadfunnel version (written into every manifest and config)."""
    try:
        return metadata.version("leadfunnel")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"


def file_fingerprint(path: str | os.PathLike) -> str:
    """``sha256:`` of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def text_fingerprint(text: str) -> str:
    """``sha256:`` of a text's UTF-8 bytes (an input that is not a file, such as the built-in scenario)."""
    return f"sha256:{hashlib.sha256(text.encode('utf-8')).hexdigest()}"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    p, f = path.resolve(), folder.resolve()
    return p == f or f in p.parents


def check_paths(
    *,
    inputs: Mapping[str, str | os.PathLike | None],
    files: Mapping[str, str | os.PathLike | None] | None = None,
    folders: Mapping[str, str | os.PathLike | None] | None = None,
) -> None:
    """Refuse outputs that are inputs, lie in an output folder, or are another output.

    ``inputs``, ``files`` (output files) and ``folders`` (output folders, replaced as a
    whole) map a label the user knows (``"--out"``, ``"the history"``) to a path; ``None``
    entries are skipped. Raises ``ValueError`` naming both labels and the path.
    """
    ins = {k: Path(v) for k, v in inputs.items() if v is not None}
    outs = {k: Path(v) for k, v in (files or {}).items() if v is not None}
    dirs = {k: Path(v) for k, v in (folders or {}).items() if v is not None}
    for out_label, out in outs.items():
        for in_label, path in ins.items():
            if out.resolve() == path.resolve() or _same(out, path):
                raise ValueError(
                    f"{out_label} {out} is {in_label}: writing it would replace your input; choose another path"
                )
    for dir_label, folder in dirs.items():
        for in_label, path in ins.items():
            if _inside(path, folder):
                raise ValueError(
                    f"{in_label} {path} is inside the output folder {dir_label} {folder}, which the run replaces "
                    "as a whole: move it out of the folder or choose another output folder"
                )
    labels = list(outs)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            if outs[a].resolve() == outs[b].resolve() or _same(outs[a], outs[b]):
                raise ValueError(f"{a} and {b} are the same file {outs[a]}: give each output its own path")


@contextlib.contextmanager
def output_folder(
    folder: str | os.PathLike,
    *,
    command: str,
    seed: int | None = None,
    inputs: Mapping[str, str] | None = None,
) -> Iterator[Path]:
    """Lock ``folder``, yield a staging folder to write into, then move it into place.

    Parameters
    ----------
    folder : path
        The output folder (created, with its parents, if missing).
    command : str
        What wrote it (``"simulate run"``), for the manifest.
    seed : int, optional
        The run's seed, for the manifest.
    inputs : mapping, optional
        Each input's name and fingerprint (``file_fingerprint``, ``text_fingerprint``).

    Raises
    ------
    OutputFolderError
        Another run holds the folder, or it holds files that are not outputs of an earlier
        run (they are left alone), or it is a file.
    """
    target = Path(folder).absolute()
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"cannot write to {folder}: it is a file, not a folder")
    created = _make_parent(target, folder)
    try:
        with _lock(target, folder):
            _clean_leftovers(target)
            _refuse_foreign_files(target, folder)
            stage = Path(tempfile.mkdtemp(prefix=f".{target.name}{_STAGING}{os.getpid()}-", dir=target.parent))
            try:
                yield stage
                _write_manifest(stage, command=command, seed=seed, inputs=inputs or {})
                _move_into_place(stage, target)
            except OSError as exc:
                named = _named_for_user(exc, stage, Path(folder))
                if named is exc:
                    raise
                raise named from exc
            finally:
                shutil.rmtree(stage, ignore_errors=True)
    except BaseException:
        for made in created:  # folders made for a run that wrote nothing
            with contextlib.suppress(OSError):
                made.rmdir()
        raise


def _named_for_user(exc: OSError, stage: Path, folder: Path) -> OSError:
    """The error with the staged path replaced by the path the user asked for."""
    name = exc.filename
    if exc.errno is None or name is None or not str(name).startswith(str(stage)):
        return exc
    return OSError(exc.errno, exc.strerror, str(folder / Path(name).relative_to(stage)))


def _make_parent(target: Path, shown: str | os.PathLike) -> list[Path]:
    """Create the missing parents of ``target``; return them, deepest first."""
    existing = target.parent
    missing = []
    while not existing.exists():
        missing.append(existing)
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"cannot write to {shown}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write to {shown}: {existing} is not writable")
    for path in reversed(missing):
        path.mkdir()
    return missing


@contextlib.contextmanager
def _lock(target: Path, shown) -> Iterator[None]:
    path = target.parent / f".{target.name}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
                    raise OutputFolderError(
                        f"cannot write to {shown}: another run (process {holder}) is writing to it; wait for it to "
                        "finish or choose another folder"
                    ) from None
            # the lock file may have been removed by the run that held it just before
            if os.path.exists(path) and os.path.samestat(os.fstat(fd), os.stat(path)):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _clean_leftovers(target: Path) -> None:
    """Remove what killed runs left (under the lock: no other run is writing)."""
    parent, name = target.parent, target.name
    aside = sorted(parent.glob(f".{name}{_ASIDE}*"), key=lambda p: p.stat().st_mtime)
    if aside and not target.exists():
        aside.pop().rename(target)  # killed between its two renames: the old folder comes back
    for path in [*aside, *parent.glob(f".{name}{_STAGING}*")]:
        shutil.rmtree(path, ignore_errors=True)
    if target.is_dir():
        from simulate.atomic import remove_stale_temporaries

        for name in [*_manifest_files(target), MANIFEST]:
            remove_stale_temporaries(target / name, any_process=True)


def _manifest_files(target: Path) -> dict[str, str]:
    try:
        data = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"] if data.get("format") == MANIFEST_FORMAT else {}
        return {str(k): str(v) for k, v in files.items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _refuse_foreign_files(target: Path, shown) -> None:
    if not target.is_dir():
        return
    ours = _manifest_files(target)
    foreign = []
    for path in sorted(target.iterdir()):
        if path.name == MANIFEST and ours:
            continue
        if path.is_file() and path.name in ours and file_fingerprint(path) == ours[path.name]:
            continue
        foreign.append(path.name + ("" if path.name not in ours else " (changed since it was written)"))
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise OutputFolderError(
            f"cannot write to {shown}: it holds files that are not the outputs of an earlier run "
            f"({', '.join(foreign[:3])}{more}); an output folder is replaced as a whole, and files this program "
            "did not write are never deleted: choose an empty or new folder, or move those files out"
        )


def _write_manifest(stage: Path, *, command: str, seed: int | None, inputs: Mapping[str, str]) -> None:
    files = {p.name: file_fingerprint(p) for p in sorted(stage.iterdir()) if p.is_file() and p.name != MANIFEST}
    manifest = {
        "format": MANIFEST_FORMAT,
        "package_version": package_version(),
        "command": command,
        "seed": seed,
        "inputs": dict(inputs),
        "files": files,
    }
    from simulate.atomic import write_text_atomic

    write_text_atomic(stage / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def _move_into_place(stage: Path, target: Path) -> None:
    os.chmod(stage, 0o777 & ~_umask())
    if not target.exists():
        stage.rename(target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}{_ASIDE}{os.getpid()}-", dir=target.parent))
    aside.rmdir()
    target.rename(aside)
    try:
        stage.rename(target)
    except BaseException:
        aside.rename(target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
