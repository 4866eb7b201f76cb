"""Parley's benchmark suite (`make bench`): retrieval, ingest, answering through Telegram's
protocol, digest fan-out and start-up, each beside a plain baseline measured in the same run."""
