"""``pip install .`` gives a working app away from the checkout: every package, the
page's assets, the ``voicechat`` and ``voicechat-loadtest`` commands; ``voicechat serve``
serves the page and its scripts from the installed copy. (No Docker daemon runs on these
machines: the Dockerfile's own steps are this install plus the model files, checked in
test_the_dockerfile_runs_what_is_tested_here.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from monitoring.servers.server_process import free_port
from monitoring.servers.simulated import SIMULATED_ENV
from tests.conftest import ROOT


def test_every_package_is_in_the_wheel_list() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {str(p.parent.relative_to(ROOT)).replace("/", ".")
               for top in ("core", "components", "monitoring") for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk | {"voicechat_assets", "voicechat_loadtest_audio"} == listed


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # From a copy of the source: setuptools builds in the source folder (build/).
    source = tmp_path_factory.mktemp("source") / "voicechat"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "tmp", "tests", "docs", "build", "*.egg-info", "__pycache__"))
    (source / "tests" / "fixtures").mkdir(parents=True)  # of the tests, only the load tester's questions
    for question in (ROOT / "tests" / "fixtures").glob("question_*.wav"):
        shutil.copy(question, source / "tests" / "fixtures")
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(target), str(source)],
                   check=True, capture_output=True, timeout=600)
    return target


def run(installed: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run(list(command), cwd=installed.parent, env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_commands_are_installed_and_answer(installed: Path) -> None:
    assert (installed / "voicechat_assets" / "voice_app.js").is_file()
    assert (installed / "voicechat_assets" / "worklets").is_dir()
    assert "serve" in run(installed, str(installed / "bin" / "voicechat"), "--help").stdout
    assert "--sessions" in run(installed, str(installed / "bin" / "voicechat-loadtest"), "--help").stdout
    # Its default questions come with it: the command works outside the checkout.
    assert (installed / "voicechat_loadtest_audio" / "question_1.wav").is_file()
    audio = run(installed, sys.executable, "-c",
                "from monitoring.loadtest.config import default_audio; print(*default_audio(), sep=chr(10))")
    assert audio.stdout.split() == [str(installed / "voicechat_loadtest_audio" / f"question_{i}.wav")
                                    for i in range(1, 7)], audio
    minted = run(installed, str(installed / "bin" / "voicechat"), "ticket")
    assert minted.returncode == 2 and "VOICECHAT_TICKET_SECRET" in minted.stderr
    where = run(installed, sys.executable, "-c", "import app; print(app.assets_folder())")
    assert where.stdout.strip() == str(installed / "voicechat_assets")
    # The page's words in the other languages come with it.
    german = run(installed, sys.executable, "-c",
                 "from components import i18n; print(i18n.catalogue('de')['Settings'])")
    assert german.returncode == 0 and german.stdout.strip() == "Einstellungen", german


def test_voicechat_serve_serves_the_page_from_the_installed_copy(installed: Path) -> None:
    port = free_port()
    env = {**os.environ, **SIMULATED_ENV, "PYTHONPATH": str(installed), "VOICECHAT_PORT": str(port),
           "VOICECHAT_DB_PATH": ""}
    server = subprocess.Popen([str(installed / "bin" / "voicechat"), "serve"], cwd=installed.parent, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        page = ""
        deadline = time.monotonic() + 60
        while not page and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    page = answer.read().decode()
            except OSError:
                time.sleep(0.2)  # polling a server that is still starting: nothing to wait on
        script = re.search(r'src="(/assets/voice_app\.js[^"]*)"', page)
        assert script, "the page names no voice_app.js"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{script.group(1)}", timeout=5) as answer:
            assert b"window.VoiceChat.App" in answer.read()
    finally:
        server.terminate()
        server.wait(30)


def test_the_dockerfile_runs_what_is_tested_here() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --no-deps ." in dockerfile  # the install above
    assert "python -m core.providers.embedded.model_files" in dockerfile  # models assembled at build
    assert "-DGGML_NATIVE=OFF" in dockerfile  # a CPU-safe llama.cpp, not this machine's
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)  # not root
    assert "/readyz" in dockerfile and "HEALTHCHECK" in dockerfile
