"""Fixtures: an emulator with a small generated tenant, served on free ports in a thread, and a real SDK client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from docintel.graph_emulator.testing import SMALL_TENANT, RunningEmulator, running_emulator


@pytest.fixture
def start_graph_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    """Start emulators for any tenant (spec dict, TenantSpec or YAML path); all are stopped after the test."""
    with ExitStack() as stack:

        def start(tenant: Any = None) -> RunningEmulator:
            return stack.enter_context(running_emulator(tenant if tenant is not None else SMALL_TENANT))

        yield start


@pytest.fixture
def graph_emulator(start_graph_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    """An emulator serving :data:`SMALL_TENANT`, fresh for each test."""
    return start_graph_emulator()
