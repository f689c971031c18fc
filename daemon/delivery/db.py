"""The daemon's SQLite files, opened one way: their folder made, this user's alone, WAL, every commit on disk."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from homegym.core.errors import UserError


def open_db(path: Path, what: str, check: Callable[[sqlite3.Connection], object] | None = None) -> sqlite3.Connection:
    """A SQLite file for one of the daemon's stores, its folder made, readable by this user alone (like the token:
    it holds what was done when); ``check`` reads it before anything is written; a clear error naming state.dir
    otherwise."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # made by an older version, or under another umask
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        if check is not None:
            try:
                check(db)  # before anything is written: a file that is not ours stays as it was
            except BaseException:
                db.close()
                raise
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # what the counter was told is stored is on disk
        return db
    except (OSError, sqlite3.Error) as e:
        reason = getattr(e, "strerror", None) or str(e)
        if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):  # not SQLite's
            raise UserError(f"state.dir: the {what} {path} cannot be used ({e}): move it away, and a new one is made") from None
        raise UserError(f"state.dir: cannot open the {what} {path}: {reason}") from None


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: committed, or rolled back where SQLite has not already ended it (a full disk does)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
