"""How every docintel command presents its errors: one line on stderr and the error's exit status."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from docintel.errors import ConfigError, DocintelError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


def handle_errors(func: F) -> F:
    """Turn a docintel error into one line on stderr and exit 1 (2 for configuration errors)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DocintelError as error:
            click.secho(f"error: {error.message}", fg="red", err=True)
            sys.exit(error.exit_code if isinstance(error, ConfigError) else EXIT_FAILURES)

    return wrapper  # type: ignore[return-value]
