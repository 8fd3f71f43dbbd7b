"""The driver: plans a study, keeps the store, hands ready tasks to an executor, records what comes back.

Tasks start as soon as what they depend on is done; a failed task is retried up to `retries` times,
then recorded with its traceback while the rest goes on (its dependents are marked `skipped`).
Ctrl-C kills running work and leaves it pending; rerunning the same study in the same directory
resumes: done tasks are not rerun and interrupted ones restart from the checkpoints that search
and training keep in `RUN/tasks/<key>/`.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nastransfer.errors import ConfigError, StoreError
from nastransfer.study.config.preflight import check_data
from nastransfer.study.config.resolved import ResolvedStudy
from nastransfer.study.config.schema import StudyConfig
from nastransfer.study.config.storage_check import datasets_read, token_in
from nastransfer.study.cost.plan import CostPlan, device_total_text
from nastransfer.study.driver.lock import check_unlocked, run_lock
from nastransfer.study.driver.planner import plan_study
from nastransfer.study.driver.run_dir import RunDir
from nastransfer.study.driver.store import Store
from nastransfer.study.driver.tasks import FORMAT_VERSION, Task, canonical_json
from nastransfer.study.kinds import Cell, TaskKind, Work, get_kind
from nastransfer.study.worker.executors import Executor, make_executor


@dataclass
class Snapshot:
    """What the live display shows: counts per kind and status, and an estimate of the time left."""

    counts: dict[str, dict[str, int]]
    eta_s: float | None
    elapsed_s: float


@dataclass
class _Flight:
    """One submitted unit of work: the task that started it and the work (with the tasks sharing it)."""

    kind: TaskKind
    primary: str
    work: Work
    payload: dict[str, Any]
    started: float


@dataclass
class RunSummary:
    run_dir: Path
    counts: dict[str, dict[str, int]]
    failed: list[str] = field(default_factory=list)
    cause: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed


def run_study(
    study: ResolvedStudy,
    run_dir: str | Path,
    on_update: Callable[[Snapshot], None] | None = None,
    executor: Executor | None = None,
    where: str | None = None,
    plan: CostPlan | None = None,
) -> RunSummary:
    """Run (or resume) `study` in `run_dir`; it comes validated and resolved (`load_study`).

    Its data is checked first (`where`, e.g. the study file, starts each error message). With a cost
    `plan` (`cost.plan.estimate_study`), the time left starts from its estimates, and the run
    directory keeps the plan and, at the end, its estimates against the measured costs.
    """
    run_dir = Path(run_dir)
    files = RunDir(run_dir)
    tasks = plan_study(study)
    resolved = resolved_config(study)
    check_data(study, where or f"study {study.name!r}")
    check_run_dir(run_dir)  # another study or a held lock is refused under the lock, below
    executor = executor or make_executor(study.executor)  # a bad executor setting fails before any file
    created = not run_dir.exists()
    try:
        _make_dir(run_dir)
        with run_lock(run_dir):
            _check_storage(executor, run_dir, study, created)
            prepare_run_dir(resolved, run_dir, len(tasks))
            if plan is not None:
                files.write_json(files.plan, plan.to_dict())
            estimates = plan.wall_by_task() if plan is not None else {}
            with Store.of_run(run_dir) as store:
                store.add_tasks(tasks)
                store.reopen_unfinished()
                driver = _Driver(
                    store, tasks, executor, run_dir, study.executor.retries, on_update, estimates
                )
                driver.run()
                counts = store.status_counts()
                failed = [row for row in store.tasks() if row["status"] == "failed"]
                if plan is not None:
                    files.write_json(files.cost, cost_summary(plan, store))
    finally:
        executor.close()
    return RunSummary(run_dir, counts, [row["key"] for row in failed], _cause(failed))


def check_before_run(study: ResolvedStudy, run_dir: Path, where: str | None = None) -> None:
    """Every refusal that needs no measurement, so `run` refuses before it plans: the run directory
    (`check_run_dir`), another study in it, another run holding it, then the study's data (`where`,
    e.g. the study file, starts each data error)."""
    check_run_dir(run_dir)
    if RunDir(run_dir).resolved.exists():
        _check_same_study(resolved_config(study), run_dir, len(plan_study(study)))
    check_unlocked(run_dir)
    check_data(study, where or f"study {study.name!r}")


def check_run_dir(run_dir: Path) -> None:
    """What is already in `run_dir` can be resumed: a directory, a readable store, a resolved config,
    and no folder where the plan and cost files go."""
    if run_dir.exists() and not run_dir.is_dir():
        raise StoreError(f"{run_dir}: exists and is not a directory; use another --dir")
    files = RunDir(run_dir)
    if files.store.exists():
        Store.of_run(run_dir, readonly=True).close()
    if files.resolved.exists():
        files.read_resolved()
    files.check_writable()


def _check_storage(executor: Executor, run_dir: Path, study: ResolvedStudy, created: bool) -> None:
    """Every node sees the run directory and the datasets (`storage_check`), else nothing is run and a
    run directory made for this run is removed again (its lock, the only file in it, is released after)."""
    try:
        with token_in(run_dir, datasets_read(study)) as needs:
            executor.check_storage(needs)
    except ConfigError:
        if created:
            for path in run_dir.iterdir():
                path.unlink()
            run_dir.rmdir()
        raise


def _make_dir(run_dir: Path) -> None:
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"{run_dir}: cannot create the run directory ({err.strerror})") from None


def _cause(failed: list[Any]) -> str:
    """The last line of the first failure's traceback: what the run's summary line names."""
    lines = (failed[0]["error"] or "").strip().splitlines() if failed else []
    return lines[-1] if lines else ""


def resolved_config(study: ResolvedStudy) -> dict[str, Any]:
    """What `study.resolved.json` keeps: the config, every method's full budget, every protocol's fields."""
    protocols: dict[str, Any] = {}
    for target in study.targets:
        for setting in target.settings if not target.is_table else ():
            protocols[f"{target.name}/{setting.protocol}"] = setting.resolved.model_dump(mode="json")
    for setting in study.source_settings:
        # one source protocol keeps the key it always had, so a resumed run reads the same file
        key = "sources" if len(study.source_settings) == 1 else f"sources/{setting.protocol}"
        protocols[key] = setting.resolved.model_dump(mode="json")
    return {
        "format_version": FORMAT_VERSION,
        "config": _config_record(study.config),
        "budgets": {m.method: m.budget for m in study.methods},
        "protocols": protocols,
    }


def prepare_run_dir(resolved: dict[str, Any], run_dir: Path, n_tasks: int) -> None:
    """Create the run directory and write the resolved config, or check that it holds this same study."""
    resolved = {**resolved, "tasks": n_tasks}
    files = RunDir(run_dir)
    if files.resolved.exists():
        _check_same_study(resolved, run_dir, n_tasks)
    run_dir.mkdir(parents=True, exist_ok=True)
    files.write_json(files.resolved, resolved)


def _check_same_study(resolved: dict[str, Any], run_dir: Path, n_tasks: int) -> None:
    """The run directory's resolved config is this study's, else a ConfigError: resuming another
    study's store would mix two studies' results."""
    previous = RunDir(run_dir).read_resolved()
    if identity(previous) != identity({**resolved, "tasks": n_tasks}):
        raise ConfigError(
            f"{run_dir}: holds another study ({previous['config'].get('name')!r} with other settings); "
            "use another --dir"
        )


_MEASURED = """
SELECT t.key, t.kind, c.key AS cost_key, c.device_s FROM tasks t
JOIN costs c ON c.key = COALESCE(t.eval_key, t.key)
WHERE t.status = 'done'
"""


def cost_summary(plan: CostPlan, store: Store) -> dict[str, Any]:
    """Per task kind: the plan's device-seconds of the work done and what it measured (plain data).

    A training shared by several tasks (a cell found twice) ran once: it counts once on both sides.
    """
    estimate = {t.key: t.device_s for t in plan.tasks}
    kinds: dict[str, dict[str, float]] = {}
    counted: set[str] = set()
    for row in store.query(_MEASURED):
        if row["cost_key"] in counted or row["key"] not in estimate:
            continue
        counted.add(row["cost_key"])
        entry = kinds.setdefault(
            row["kind"], {"tasks": 0, "estimated_device_s": 0.0, "measured_device_s": 0.0}
        )
        entry["tasks"] += 1
        entry["estimated_device_s"] += estimate[row["key"]]
        entry["measured_device_s"] += row["device_s"] or 0.0
    measured = sum(k["measured_device_s"] for k in kinds.values())
    return {
        "device": plan.device,
        "estimated_from": plan.estimated_from,
        "kinds": kinds,
        "planned_device_s": plan.device_s,
        "planned_total": plan.total_text(),
        "measured_device_s": measured,
        "measured_total": device_total_text(measured, plan.device),
    }


#: Config keys added after run directories were first written: left out of the record while unused, so
#: those directories keep their identity and resume.
_LATER_KEYS = {"evaluate": ("source_protocols", "source_protocol_overrides"), "random": ("source_cells",)}


def _config_record(config: StudyConfig) -> dict[str, Any]:
    record = config.model_dump(mode="json")
    for section, keys in _LATER_KEYS.items():
        for key in keys:
            if record[section][key] in (None, {}):
                del record[section][key]
    return record


def identity(resolved: dict[str, Any]) -> str:
    """What must match for a rerun to resume: everything but how it is executed."""
    config = {k: v for k, v in resolved["config"].items() if k != "executor"}
    return canonical_json({**resolved, "config": config, "tasks": None})


def study_name(run_dir: str | Path) -> str:
    """The study's `name` from the run's resolved config; the directory's name when there is none."""
    run_dir = Path(run_dir)
    path = RunDir(run_dir).resolved
    if not path.is_file():
        return run_dir.resolve().name
    try:
        name = json.loads(path.read_text(encoding="utf-8"))["config"]["name"]
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from None
    except (KeyError, TypeError):
        raise ConfigError(f"{path}: has no config.name") from None
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}: config.name is {name!r}, not a study name")
    return name


class _Driver:
    def __init__(
        self,
        store: Store,
        tasks: list[Task],
        executor: Executor,
        run_dir: Path,
        retries: int,
        on_update: Callable[[Snapshot], None] | None,
        estimates: dict[str, float] | None = None,
    ) -> None:
        self.store, self.executor, self.run_dir, self.retries = store, executor, run_dir, retries
        self.on_update = on_update
        self.estimates = estimates or {}
        self.tasks = {t.key: t for t in tasks}
        rows = {row["key"]: row for row in store.tasks()}
        self.status = {key: rows[key]["status"] for key in self.tasks}
        self.cells: dict[str, Cell] = {}
        for key, task in self.tasks.items():
            if get_kind(task.kind).produces_cell and self.status[key] == "done":
                cell = rows[key]["cell"]
                self.cells[key] = (cell, store.genotype_text(cell))
        self.dependents: dict[str, list[str]] = defaultdict(list)
        for task in tasks:
            if task.producer is not None:
                self.dependents[task.producer].append(task.key)
        producers = [k for k, t in self.tasks.items() if self.status[k] == "pending" and t.producer is None]
        # Tasks run in the driver (random draws: microseconds) go first, so their evaluations queue up early.
        self.ready: deque[str] = deque(
            sorted(producers, key=lambda k: not get_kind(self.tasks[k].kind).in_driver)
        )
        for producer in self.cells:
            self._release(producer)
        self.flights: dict[Future, _Flight] = {}
        self.shared_in_flight: dict[str, _Flight] = {}  # by work key: work that later tasks may join
        self.attempts: dict[str, int] = defaultdict(int)
        self.durations: dict[str, list[float]] = defaultdict(list)
        self.estimated_done: dict[str, float] = defaultdict(float)  # estimates of the finished flights
        self.t0 = time.time()

    def run(self) -> None:
        try:
            while True:
                self._dispatch()
                if not self.flights:
                    break
                finished, _ = wait(list(self.flights), timeout=1.0, return_when=FIRST_COMPLETED)
                for future in finished:
                    self._collect(future)
                self._notify()
        except KeyboardInterrupt:
            self.executor.abort()
            running = [k for flight in self.flights.values() for k in flight.work.keys]
            self.store.mark_pending(running)
            raise
        self._notify()

    # -- scheduling -----------------------------------------------------------------------------------

    def _release(self, producer: str) -> None:
        """A producer is done: its pending evaluations become ready."""
        self.ready.extend(k for k in self.dependents.get(producer, []) if self.status[k] == "pending")

    def _dispatch(self) -> None:
        while self.ready and len(self.flights) < self.executor.slots:
            key = self.ready.popleft()
            self._start(key, self.tasks[key])

    def _start(self, key: str, task: Task) -> None:
        """Run an in-driver task now; join or reuse shared work already started or stored; else submit."""
        kind = get_kind(task.kind)
        cell = self.cells[task.producer] if task.producer is not None else None
        work = Work([key], kind.work_key(task, cell), cell)
        if kind.in_driver:
            flight = _Flight(kind, key, work, {"kind": task.kind, "spec": task.spec}, time.time())
            self._record(flight, kind.run(flight.payload, None), "driver", None)
            return
        if work.key != key:
            assert cell is not None
            if kind.is_recorded(self.store, work.key):
                self.store.link_evaluation(key, work.key, cell[0])
                self.store.finish_from_stored([key])
                self.status[key] = "done"
                return
            if work.key in self.shared_in_flight:
                self.shared_in_flight[work.key].work.keys.append(key)
                self.store.link_evaluation(key, work.key, cell[0])
                self.store.mark_running(key, "shared")
                self.status[key] = "running"
                return
            self.store.link_evaluation(key, work.key, cell[0])
        payload = {**self._payload(task, work.key), **kind.payload(task, cell), "task_kind": kind}
        flight = _Flight(kind, key, work, payload, time.time())
        if work.key != key:
            self.shared_in_flight[work.key] = flight
        self._submit(flight)

    def _payload(self, task: Task, workdir_key: str) -> dict[str, Any]:
        files = RunDir(self.run_dir)
        workdir = files.task_dir(workdir_key)
        workdir.mkdir(parents=True, exist_ok=True)
        spec_path = files.task_spec(workdir_key)
        if not spec_path.exists():
            files.write_json(spec_path, task.spec)
        return {"kind": task.kind, "spec": task.spec, "workdir": str(workdir)}

    def _submit(self, flight: _Flight) -> None:
        self.attempts[flight.primary] += 1
        future = self.executor.submit(flight.payload)
        for key in flight.work.keys:
            self.store.mark_running(key, "submitted")
            self.status[key] = "running"
        self.flights[future] = flight

    # -- results --------------------------------------------------------------------------------------

    def _collect(self, future: Future) -> None:
        flight = self.flights.pop(future)
        try:
            outcome = future.result()
        except Exception as err:  # the worker process itself died, or Ray lost the task
            outcome = {"ok": False, "error": f"{type(err).__name__}: {err}", "worker": "?"}
        if outcome["ok"]:
            self.durations[flight.kind.name].append(time.time() - flight.started)
            self.estimated_done[flight.kind.name] += self.estimates.get(flight.primary, 0.0)
            self._record(flight, outcome["result"], outcome["worker"], outcome.get("node"))
        elif self.attempts[flight.primary] <= self.retries:
            flight.started = time.time()
            self._submit(flight)
        else:
            self._fail(flight, outcome["error"])

    def _record(self, flight: _Flight, result: dict[str, Any], worker: str, node: str | None) -> None:
        task = self.tasks[flight.primary]
        self.shared_in_flight.pop(flight.work.key, None)
        produced = flight.kind.record(self.store, task, flight.work, result, worker, node)
        for key in flight.work.keys:
            self.status[key] = "done"
        if produced is not None:
            self.cells[flight.primary] = produced
            self._release(flight.primary)

    def _fail(self, flight: _Flight, error: str) -> None:
        self.store.mark_failed(flight.work.keys, error)
        for key in flight.work.keys:
            self.status[key] = "failed"
        self.shared_in_flight.pop(flight.work.key, None)
        skipped = [k for k in self.dependents.get(flight.primary, []) if self.status[k] == "pending"]
        self.store.mark_failed(
            skipped, f"upstream {flight.kind.name} task {flight.primary[:12]} failed", status="skipped"
        )
        for key in skipped:
            self.status[key] = "skipped"

    # -- progress -------------------------------------------------------------------------------------

    def _notify(self) -> None:
        if self.on_update is None:
            return
        counts: dict[str, dict[str, int]] = {}
        for key, status in self.status.items():
            kind_counts = counts.setdefault(self.tasks[key].kind, {})
            kind_counts[status] = kind_counts.get(status, 0) + 1
        self.on_update(Snapshot(counts, self._eta(), time.time() - self.t0))

    def _eta(self) -> float | None:
        """Time left of the tasks not done, spread over the slots.

        A task's time is its plan estimate scaled by measured / estimated over the finished tasks
        of its kind (1 until one finishes); without an estimate, the mean duration of its kind.
        """
        left = 0.0
        for key, status in self.status.items():
            kind = self.tasks[key].kind
            if status not in ("pending", "running") or get_kind(kind).in_driver:
                continue
            spent = sum(self.durations[kind])
            if key in self.estimates:
                expected = self.estimated_done[kind]
                left += self.estimates[key] * (spent / expected if expected > 0 and spent > 0 else 1.0)
            elif self.durations[kind]:
                left += spent / len(self.durations[kind])
            else:
                return None
        return left / max(1, self.executor.slots)
