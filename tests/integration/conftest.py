from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.providers.base import Providers
from core.providers.registry import build_providers
from core.providers.remote.async_runner import AsyncRunner
from core.settings import Settings


@pytest.fixture(scope="session")
def real_providers() -> Iterator[Providers]:
    runner = AsyncRunner()
    providers = build_providers(Settings(), runner)
    providers.warm_up()
    yield providers
    providers.close()
    runner.stop()
