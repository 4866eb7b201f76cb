"""`make eval`: answer quality on held-out questions, measured through `parley ask --json`."""
