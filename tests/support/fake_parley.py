"""The real `parley` command with the fake embedder, for tests that run it as a process.

`python -m tests.support.fake_parley ARGS...` behaves as `parley ARGS...` except that the
model is the deterministic stand-in, so a subprocess starts in seconds, not half a minute.
"""

from __future__ import annotations

import sys
from typing import Any

from parley import services
from parley.cli import main
from tests.support.fake_embedder import FakeEmbedder


def _fake_model(*_args: Any, **_kwargs: Any) -> FakeEmbedder:
    return FakeEmbedder()


if __name__ == "__main__":
    services.load_embedder = _fake_model  # type: ignore[attr-defined, assignment]
    sys.exit(main())
