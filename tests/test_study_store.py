"""The study store: WAL mode, schema version and migrations, idempotent result inserts, task identity."""

import sqlite3

from nastransfer.study import SCHEMA_VERSION, Store, Task, evaluation_key
from nastransfer.study.driver.store import MIGRATIONS, _statements

RESULT = {
    "top1": 91.5,
    "top5": 99.0,
    "params": 1234,
    "flops": 5678,
    "curve": [{"loss": 1.0}, {"loss": 0.5}],
    "cost": {"wall_s": 2.0, "device_s": 1.5, "peak_mem_mb": 10.0, "device": "cpu"},
}


def _tasks():
    search = Task.make("search", {"space": "darts", "method": "darts", "seed": 0})
    evaluate = Task.make("evaluate", {"space": "darts", "setting": {"name": "t"}}, producer=search.key)
    return search, evaluate


def test_wal_mode_and_schema_version(tmp_path):
    with Store(tmp_path / "study.sqlite") as store:
        assert store.journal_mode == "wal"
        assert store.version == SCHEMA_VERSION == len(MIGRATIONS)
    with Store(tmp_path / "study.sqlite") as again:  # reopening migrates nothing and keeps the version
        assert again.version == SCHEMA_VERSION


def test_migration_from_version_1_keeps_rows(tmp_path):
    path = tmp_path / "study.sqlite"
    db = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        db.execute(statement)
    db.execute("UPDATE schema_version SET version = 1")
    db.execute("INSERT INTO tasks (key, kind, spec, created) VALUES ('k1', 'sample', '{}', 0)")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.version == SCHEMA_VERSION
        row = store.task("k1")
        assert row["kind"] == "sample" and row["worker"] is None  # the column version 2 added
        store.mark_running("k1", "host:1")
        assert store.task("k1")["worker"] == "host:1"


def test_migration_from_version_2_adds_the_node_and_keeps_rows(tmp_path):
    """A store written before nodes were recorded (schema 2) opens, keeps its rows and records nodes."""
    path = tmp_path / "study.sqlite"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        for statement in _statements(script):
            db.execute(statement)
    db.execute("UPDATE schema_version SET version = 2")
    db.execute("INSERT INTO tasks (key, kind, spec, created, worker) VALUES ('k1', 'search', '{}', 0, 'h:1')")
    db.commit()
    db.close()
    with Store(path, readonly=True) as store:  # `status` of an older run reads a copy migrated in memory
        assert store.version == SCHEMA_VERSION and store.node_counts() == {}
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (2,)  # the file as it was
    with Store(path) as store:
        assert store.version == SCHEMA_VERSION == 4
        assert store.task("k1")["worker"] == "h:1" and store.task("k1")["node"] is None
        store.record_genotype("k1", "darts", "cell", "text", search={}, worker="h:2", node="n1")
        assert store.node_counts() == {"n1": 1}


def test_result_insert_is_idempotent(tmp_path):
    search, evaluate = _tasks()
    with Store(tmp_path / "study.sqlite") as store:
        assert store.add_tasks([search, evaluate]) == 2
        assert store.add_tasks([search, evaluate]) == 0
        store.record_genotype(
            search.key, "darts", "cellkey", "Genotype(...)", search={"cost": RESULT["cost"]}
        )
        eval_key = evaluation_key("cellkey", "darts", {"name": "t"})
        for _ in range(3):
            store.record_evaluation([evaluate.key], eval_key, "cellkey", RESULT, "w")
        assert store.query("SELECT COUNT(*) FROM results")[0][0] == 1
        assert store.query("SELECT COUNT(*) FROM curves")[0][0] == 2
        assert store.query("SELECT COUNT(*) FROM costs")[0][0] == 2
        assert store.status_counts()["evaluate"]["done"] == 1


def test_interrupted_tasks_reopen_as_pending(tmp_path):
    search, evaluate = _tasks()
    with Store(tmp_path / "study.sqlite") as store:
        store.add_tasks([search, evaluate])
        store.mark_running(search.key, "w")
        store.mark_failed([evaluate.key], "Traceback ...")
        assert store.reopen_unfinished() == 2
        assert {row["status"] for row in store.tasks()} == {"pending"}
        assert store.task(search.key)["attempts"] == 1


def test_task_key_is_canonical_and_versioned():
    a = Task.make("search", {"b": 1, "a": {"y": 2, "x": 1}})
    b = Task.make("search", {"a": {"x": 1, "y": 2}, "b": 1})
    assert a.key == b.key and len(a.key) == 64
    assert " " not in a.spec_json
    assert Task.make("search", {"b": 2, "a": {"x": 1, "y": 2}}).key != a.key
    assert evaluation_key("c", "darts", {"seed": 0}) != evaluation_key("c", "darts", {"seed": 1})
