"""The one transaction helper: the outermost `transaction(conn)` commits when its block succeeds
and rolls back when it raises; one opened inside it on the same connection joins it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_open: set[int] = set()


@contextmanager
def transaction(conn) -> Iterator[None]:
    """Run the block in one transaction of `conn` (or in the one already open through here)."""
    key = id(conn)
    if key in _open:
        yield
        return
    _open.add(key)
    try:
        yield
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        _open.discard(key)
