"""What `parley ingest --dry-run --json` would print for files, for tests of reading them."""

from __future__ import annotations

from pathlib import Path

from parley.services import Services


def previews(services: Services, *paths: Path) -> list[dict[str, object]]:
    """The previews of the files, which must all be readable."""
    plans, problems = services.ingestor.plan_files([str(path) for path in paths])
    assert problems == []
    return [plan.preview() for plan in plans]
