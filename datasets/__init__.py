"""Data, not code: the provider registry (providers.toml) and the catalogue of inputs."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(name: str) -> Path:
    """Return the path of a file shipped in this folder."""
    return Path(str(files(__name__).joinpath(name)))
