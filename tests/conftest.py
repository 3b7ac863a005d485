"""Shared fixtures: an isolated dependency cache, a pinned date, and a local wheel index built per session."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lpack.core import clock
from tests.factories import make_native_wheel, make_sdist, make_wheel


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own cache and no installer settings from the machine it runs on."""
    for key in list(os.environ):
        if key.startswith(("PIP_", "UV_")) or key in ("SOURCE_DATE_EPOCH", "LPACK_CACHE_DIR",
                                                                 "LPACK_REMOTE_CACHE", "LPACK_REMOTE_CACHE_READ_ONLY"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LPACK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "uv-cache"))
    yield


# python3.10 is deprecated (2026-10-31) but not yet blocked (2027-02-01) on this day.
PINNED_TODAY = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command decides runtime lifecycles on PINNED_TODAY, not on the day the tests run."""
    monkeypatch.setattr(clock, "today", lambda: PINNED_TODAY)


@pytest.fixture
def set_today(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.date], None]:
    """Move the pinned clock to another day, for a test about what happens then."""
    def set_to(day: dt.date) -> None:
        monkeypatch.setattr(clock, "today", lambda: day)
    return set_to


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A --find-links folder: pure wheels, native wheels for both machines, and an sdist only."""
    house = tmp_path_factory.mktemp("wheelhouse")
    make_wheel(house, "demo-pure", "1.0", requires=["demo-dep"])
    make_wheel(house, "demo-dep", "2.0", console_scripts={"demo-dep": "demo_dep:main"})
    make_wheel(house, "demo-pure", "1.1")
    for python in ("cp312", "cp313", "cp314", "cp311"):
        for machine in ("x86_64", "aarch64"):
            make_native_wheel(house, "fastlib", "1.0", python=python, machine=machine)
    make_native_wheel(house, "armonly", "1.0", python="cp312", machine="aarch64")
    make_sdist(house, "only-sdist", "1.0")
    return house
