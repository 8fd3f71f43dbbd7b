"""The study's SQLite store: one file per run directory, WAL mode, every write in a transaction.

Only the driver process writes; workers hand their results back to it. Results are keyed by the
content-based evaluation key and inserted with `INSERT OR IGNORE`, so recording the same result
twice (a resumed run, a cell found by two methods) never duplicates a row. The schema carries a
version and a list of migrations that bring an older file up to date when it is opened (a read-only
open migrates a copy in memory and leaves the file as it is). A task kind owns the tables it records
into (`TaskKind.tables`); they are made on every open, so a newly registered kind finds its own.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nastransfer.errors import StoreError
from nastransfer.study.driver.run_dir import RunDir
from nastransfer.study.driver.tasks import Task

STATUSES = ("pending", "running", "done", "failed", "skipped")


def _adopt_older_records(db: sqlite3.Connection, where: str) -> None:
    """Schema 4: every task kind's own tables, and what older schemas kept elsewhere moved into them
    (a fidelity task's scores were JSON in `searches`)."""
    for kind in _kinds():
        _make_tables(db, kind.tables)
        kind.adopt(db, where)


#: MIGRATIONS[i] brings a store from schema version i to i + 1: SQL, or a function of the connection
#: and the store's path.
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection, str], None], ...] = (
    """
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (0);
    CREATE TABLE tasks (
        key TEXT PRIMARY KEY, kind TEXT NOT NULL, spec TEXT NOT NULL, producer TEXT,
        status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
        created REAL NOT NULL, started REAL, finished REAL, cell TEXT, eval_key TEXT
    );
    CREATE TABLE genotypes (key TEXT PRIMARY KEY, space TEXT NOT NULL, text TEXT NOT NULL);
    CREATE TABLE searches (task_key TEXT PRIMARY KEY, cell TEXT NOT NULL, json TEXT NOT NULL);
    CREATE TABLE results (
        eval_key TEXT PRIMARY KEY, task_key TEXT NOT NULL, cell TEXT NOT NULL,
        top1 REAL, top5 REAL, params INTEGER, flops INTEGER, json TEXT NOT NULL
    );
    CREATE TABLE curves (
        eval_key TEXT NOT NULL, step INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (eval_key, step)
    );
    CREATE TABLE costs (key TEXT PRIMARY KEY, wall_s REAL, device_s REAL, peak_mem_mb REAL, device TEXT);
    """,
    # Version 2 records which worker ran a task and indexes tasks by status for `nastransfer status`.
    """
    ALTER TABLE tasks ADD COLUMN worker TEXT;
    CREATE INDEX tasks_by_status ON tasks (status, kind);
    """,
    # Version 3 records the node (a Ray node id, or the host of a local run) that ran a task.
    """
    ALTER TABLE tasks ADD COLUMN node TEXT;
    """,
    _adopt_older_records,
)
SCHEMA_VERSION = len(MIGRATIONS)


class Store:
    """Read and write one study's SQLite file."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"{self.path}: is not a file; move it away or use another run directory")
        try:
            if readonly:
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            else:
                self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        except sqlite3.DatabaseError as err:
            raise _damaged(self.path, err) from None
        try:
            self._check()
            if not readonly:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
            elif self.version < SCHEMA_VERSION or self._missing_kind_tables():
                self._db = self._upgraded_copy()
        except BaseException as err:
            self._db.close()
            if isinstance(err, sqlite3.DatabaseError):
                raise _damaged(self.path, err) from None
            raise
        self._db.row_factory = sqlite3.Row

    def _check(self) -> None:
        """A damaged file, another program's database or one from a newer nastransfer is refused before
        anything reads or writes it."""
        problem = self._db.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise sqlite3.DatabaseError(problem)
        if self.version == 0 and self._db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
            # every store nastransfer writes has a schema_version table from its first migration
            raise sqlite3.DatabaseError("it holds tables but no schema version")
        if self.version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer nastransfer (schema {self.version}; this one reads up "
                f"to {SCHEMA_VERSION}); upgrade nastransfer to use it"
            )

    @classmethod
    def of_run(cls, run_dir: str | Path, readonly: bool = False) -> Store:
        return cls(RunDir(run_dir).store, readonly=readonly)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back if the block raises."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- schema ---------------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        has_table = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if not has_table:
            return 0
        return int(self._db.execute("SELECT version FROM schema_version").fetchone()[0])

    def _migrate(self) -> None:
        for target in range(self.version + 1, SCHEMA_VERSION + 1):
            with self.transaction() as db:
                migration = MIGRATIONS[target - 1]
                if callable(migration):
                    migration(db, str(self.path))
                else:
                    for statement in _statements(migration):
                        db.execute(statement)
                db.execute("UPDATE schema_version SET version = ?", (target,))
        with self.transaction() as db:
            for kind in _kinds():
                _make_tables(db, kind.tables)

    def _missing_kind_tables(self) -> bool:
        names = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return any(table not in names for kind in _kinds() for table in kind.tables)

    def _upgraded_copy(self) -> sqlite3.Connection:
        """The read-only file copied into memory and migrated there: readers see one schema."""
        copy = sqlite3.connect(":memory:", isolation_level=None)
        try:
            self._db.backup(copy)
        finally:
            self._db.close()
        self._db = copy
        self._migrate()
        return copy

    @property
    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    # -- tasks ----------------------------------------------------------------------------------------

    def add_tasks(self, tasks: Iterable[Task]) -> int:
        """Insert planned tasks that are not there yet; returns how many were new."""
        now = time.time()
        rows = [(t.key, t.kind, t.spec_json, t.producer, now) for t in tasks]
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO tasks (key, kind, spec, producer, created) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            return db.total_changes - before

    def reopen_unfinished(self) -> int:
        """At the start of a run: tasks left running (driver killed), failed or skipped become pending."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE tasks SET status = 'pending', started = NULL, worker = NULL, node = NULL "
                "WHERE status IN ('running', 'failed', 'skipped')"
            )
            return cursor.rowcount

    def tasks(self, kind: str | None = None) -> list[sqlite3.Row]:
        if kind is None:
            return self._db.execute("SELECT * FROM tasks ORDER BY rowid").fetchall()
        return self._db.execute("SELECT * FROM tasks WHERE kind = ? ORDER BY rowid", (kind,)).fetchall()

    def task(self, key: str) -> sqlite3.Row | None:
        return self._db.execute("SELECT * FROM tasks WHERE key = ?", (key,)).fetchone()

    def status_counts(self) -> dict[str, dict[str, int]]:
        """{kind: {status: count}} over every task."""
        counts: dict[str, dict[str, int]] = {}
        for kind, status, n in self._db.execute(
            "SELECT kind, status, COUNT(*) FROM tasks GROUP BY kind, status"
        ):
            counts.setdefault(kind, dict.fromkeys(STATUSES, 0))[status] = n
        return counts

    def node_counts(self) -> dict[str, int]:
        """{node: tasks it finished} over the tasks a worker ran (tasks run in the driver name none)."""
        rows = self._db.execute(
            "SELECT node, COUNT(*) FROM tasks WHERE status = 'done' AND node IS NOT NULL "
            "GROUP BY node ORDER BY node"
        )
        return {node: n for node, n in rows}

    def mark_running(self, key: str, worker: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE tasks SET status = 'running', attempts = attempts + 1, started = ?, worker = ?, "
                "error = NULL WHERE key = ?",
                (time.time(), worker, key),
            )

    def mark_pending(self, keys: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE tasks SET status = 'pending', started = NULL, worker = NULL, node = NULL "
                "WHERE key = ? AND status = 'running'",
                [(k,) for k in keys],
            )

    def mark_failed(self, keys: Iterable[str], error: str, status: str = "failed") -> None:
        """Record a failure (with its traceback) or, with status='skipped', a task whose producer failed."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE tasks SET status = ?, error = ?, finished = ? WHERE key = ?",
                [(status, error, time.time(), k) for k in keys],
            )

    def link_evaluation(self, key: str, eval_key: str, cell: str) -> None:
        """Record which training an evaluate task stands for, once its cell is known."""
        with self.transaction() as db:
            db.execute("UPDATE tasks SET eval_key = ?, cell = ? WHERE key = ?", (eval_key, cell, key))

    # -- results --------------------------------------------------------------------------------------

    def record_genotype(
        self,
        key: str,
        space: str,
        cell: str,
        text: str,
        search: dict[str, Any] | None = None,
        worker: str = "driver",
        node: str | None = None,
    ) -> None:
        """A search or sample task finished: its cell, the search's history and cost, the task done."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO genotypes (key, space, text) VALUES (?, ?, ?)", (cell, space, text)
            )
            if search is not None:
                db.execute(
                    "INSERT OR IGNORE INTO searches (task_key, cell, json) VALUES (?, ?, ?)",
                    (key, cell, json.dumps(search)),
                )
                _insert_cost(db, key, search.get("cost"))
            _finish(db, [key], cell=cell)
            db.execute("UPDATE tasks SET worker = ?, node = ? WHERE key = ?", (worker, node, key))

    def record_evaluation(
        self,
        keys: Iterable[str],
        eval_key: str,
        cell: str,
        result: dict[str, Any],
        worker: str = "",
        node: str | None = None,
    ) -> None:
        """An evaluation finished: insert its result, curve and cost once; mark every task sharing it done."""
        with self.transaction() as db:
            keys = list(keys)
            db.execute(
                "INSERT OR IGNORE INTO results (eval_key, task_key, cell, top1, top5, params, flops, json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    eval_key,
                    keys[0],
                    cell,
                    float(result["top1"]),
                    float(result["top5"]),
                    int(result["params"]),
                    int(result["flops"]),
                    json.dumps(result),
                ),
            )
            db.executemany(
                "INSERT OR IGNORE INTO curves (eval_key, step, json) VALUES (?, ?, ?)",
                [(eval_key, step, json.dumps(point)) for step, point in enumerate(result.get("curve") or [])],
            )
            _insert_cost(db, eval_key, result.get("cost"))
            db.executemany(
                "UPDATE tasks SET eval_key = ?, cell = COALESCE(cell, ?), worker = ?, node = ? WHERE key = ?",
                [(eval_key, cell, worker, node, k) for k in keys],
            )
            _finish(db, keys, cell=cell)

    def record_rows(
        self,
        key: str,
        table: str,
        rows: list[dict[str, Any]],
        cost: dict[str, Any] | None,
        worker: str = "",
        node: str | None = None,
    ) -> None:
        """A task finished: its rows into its kind's `table` (columns named by the rows' keys), its cost,
        the task done."""
        with self.transaction() as db:
            for row in rows:
                columns = ", ".join(row)
                marks = ", ".join("?" * len(row))
                db.execute(f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))
            _insert_cost(db, key, cost)
            _finish(db, [key])
            db.execute("UPDATE tasks SET worker = ?, node = ? WHERE key = ?", (worker, node, key))

    def finish_from_stored(self, keys: Iterable[str]) -> None:
        """Tasks whose evaluation was already recorded (a cell found twice) are done without running."""
        with self.transaction() as db:
            _finish(db, list(keys))

    def has_result(self, eval_key: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM results WHERE eval_key = ?", (eval_key,)).fetchone() is not None
        )

    def genotype_text(self, cell: str) -> str | None:
        row = self._db.execute("SELECT text FROM genotypes WHERE key = ?", (cell,)).fetchone()
        return None if row is None else str(row[0])

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Read-only access for the results frame and the status table."""
        return self._db.execute(sql, params).fetchall()


def _damaged(path: Path, err: sqlite3.DatabaseError) -> StoreError:
    return StoreError(
        f"{path}: damaged or not a study store ({err}); it is left as it is: "
        "restore it from a copy or use another run directory"
    )


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


#: What owns tables beside the core ones: the registered task kinds (`study.kinds` sets it when it is
#: imported, which importing this package does), each with `tables` and `adopt(db, where)`.
_table_owners: Callable[[], list[Any]] = list


def set_table_owners(owners: Callable[[], list[Any]]) -> None:
    global _table_owners
    _table_owners = owners


def _kinds() -> list[Any]:
    return _table_owners()


def _make_tables(db: sqlite3.Connection, tables: dict[str, str]) -> None:
    for ddl in tables.values():
        for statement in _statements(ddl):
            db.execute(statement)


def _insert_cost(db: sqlite3.Connection, key: str, cost: dict[str, Any] | None) -> None:
    if cost:
        db.execute(
            "INSERT OR IGNORE INTO costs (key, wall_s, device_s, peak_mem_mb, device) VALUES (?, ?, ?, ?, ?)",
            (key, cost.get("wall_s"), cost.get("device_s"), cost.get("peak_mem_mb"), cost.get("device")),
        )


def _finish(db: sqlite3.Connection, keys: list[str], cell: str | None = None) -> None:
    now = time.time()
    if cell is None:
        db.executemany(
            "UPDATE tasks SET status = 'done', finished = ?, error = NULL WHERE key = ?",
            [(now, k) for k in keys],
        )
    else:
        db.executemany(
            "UPDATE tasks SET status = 'done', finished = ?, error = NULL, cell = COALESCE(cell, ?) "
            "WHERE key = ?",
            [(now, cell, k) for k in keys],
        )
