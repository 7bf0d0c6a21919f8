"""``python -m docintel.graph_emulator [--tenant FILE] --port N [--content-port M] [--host H]``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from docintel.graph_emulator.server import serve_command


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m docintel.graph_emulator", description=__doc__)
    parser.add_argument("--tenant", type=Path, default=None, help="tenant YAML (default: config/demo-tenant.yaml)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--content-port", type=int, default=None, help="download host port (default: port + 1)")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve_command(args.tenant, args.port, args.content_port, args.host)


if __name__ == "__main__":
    main()
