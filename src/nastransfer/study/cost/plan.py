"""What a study will cost before it runs: each task's device-seconds, totals, and wall time on the workers.

A search costs its stages' epochs x (steps per epoch x seconds per step + the epoch's overhead) plus
its final derivation; a training-free search its predictor calls x one call's measured seconds; a
training costs its epochs x (training steps + test batches); table look-ups
and random draws cost nothing. Steps per epoch come from the budget or protocol and the sizes of
the data splits (the dataset is read if it is here, else its published size is used); seconds per
step come from `step_costs` (measured here, or from FLOPs for a GPU this machine lacks). A trained
cell is not known before its search has run, so every training is costed with one representative
cell of the space (`space.sample(0)`). Wall time replays the driver's order (producers first, a
cell's trainings once its search is done) on the executor's slots.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field
from typing import Any

from nastransfer.data import published_size
from nastransfer.errors import ConfigError, NastransferError
from nastransfer.runtime.speed_cache import TimingCache, shape_key
from nastransfer.study.config.resolved import ResolvedStudy
from nastransfer.study.cost.step_costs import (
    GPU_SEARCH_FLOPS,
    STEP_BLANK,
    TRAIN_BLANK,
    VAL_BATCHES,
    DataShape,
    ListingCache,
    Measurement,
    StepCost,
    as_dict,
    count_side,
    counted_depths,
    depth_macs,
    flops_seconds,
    machine_key,
    scale_macs,
    search_finish,
    search_step,
    supernet_macs_parts,
    train_macs_dict,
    train_steps_dict,
    zero_cost_call,
)
from nastransfer.study.driver.planner import plan_study
from nastransfer.study.driver.tasks import Task, canonical_json
from nastransfer.study.kinds import get_kind
from nastransfer.study.kinds.base import TaskCost


@dataclass(frozen=True)
class Sizes:
    """A dataset's shape and the sizes of the views tasks use (paper split: 40/40/20)."""

    shape: DataShape
    search_train: int
    search_val: int
    train: int
    test: int


@dataclass
class CostPlan:
    """The estimate of a whole study."""

    study: str
    device: str
    estimated_from: str  # "measured" (on this machine) or "flops" (step_costs's assumed GPU throughputs)
    workers: int
    threads: int
    tasks: list[TaskCost]
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def device_s(self) -> float:
        return sum(t.device_s for t in self.tasks)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for task in self.tasks:
            counts[task.kind] += 1
        return dict(counts)

    def device_s_by_kind(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for task in self.tasks:
            totals[task.kind] += task.device_s
        return dict(totals)

    def total_text(self) -> str:
        """The total as papers report it: CPU-hours, or GPU-days."""
        return device_total_text(self.device_s, self.device)

    def wall_by_task(self) -> dict[str, float]:
        """Each task's expected seconds from start to end (device-seconds over its processes and threads)."""
        threads = self.threads if self.device == "cpu" else 1
        return {t.key: t.device_s / (t.nproc * threads) for t in self.tasks}

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "device": self.device,
            "estimated_from": self.estimated_from,
            "workers": self.workers,
            "threads_per_worker": self.threads,
            "tasks": self.counts(),
            "device_s": self.device_s,
            "device_s_by_kind": self.device_s_by_kind(),
            "wall_s": self.wall_s,
            "total": self.total_text(),
            "notes": self.notes,
            "by_task": [asdict(t) for t in self.tasks],
        }


def device_total_text(device_s: float, device: str) -> str:
    """'12.3 CPU-hours' or '4.56 GPU-days'."""
    if device.startswith("cuda"):
        return f"{device_s / 86400:.3g} GPU-days"
    return f"{device_s / 3600:.3g} CPU-hours"


def default_device(config: ResolvedStudy) -> str:
    """The study's intended machine: a GPU when its executor hands tasks GPUs."""
    return "cuda" if config.executor.gpus_per_task > 0 else "cpu"


def slots_and_threads(config: ResolvedStudy, workers: int | None = None) -> tuple[int, int]:
    """Tasks at once and torch threads per task, as `make_executor` would choose them locally."""
    from nastransfer.study.worker.executors import cpu_count

    threads_given = config.executor.threads_per_worker
    slots = workers or config.executor.workers or max(1, cpu_count() // (threads_given or 1))
    return slots, threads_given or max(1, cpu_count() // slots)


def estimate_study(
    config: ResolvedStudy,
    device: str | None = None,
    workers: int | None = None,
    cache: TimingCache | None = None,
) -> CostPlan:
    """Every task of `config` with its estimated device-seconds, and the wall time on the workers."""
    import torch

    device = device or default_device(config)
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"--device: expected cpu or cuda, got {device!r}")
    measured = device == "cpu" or torch.cuda.is_available()
    slots, threads = slots_and_threads(config, workers)
    estimator = Estimator(config, device, measured, threads, cache or TimingCache())
    study_tasks = plan_study(config)
    if device == "cpu" or not measured:  # measurements made on this machine's CPU
        from nastransfer.study.worker.executors import cpu_count

        # Timings with the study's workers at once; multiply-add counts on every core.
        measure_missing(estimator, study_tasks, slots if measured else cpu_count())
    tasks = [estimator.task(task) for task in study_tasks]
    plan = CostPlan(
        config.name, device, "measured" if measured else "flops", slots, threads, tasks, notes=estimator.notes
    )
    plan.wall_s = schedule_wall_s(tasks, slots, plan.wall_by_task())
    return plan


def measure_missing(estimator: Estimator, tasks: list[Task], processes: int) -> None:
    """Make the measurements `tasks` lack, `processes` at a time, each in a process of its own (a
    timing with the workers' threads, as the study's tasks will run): a cold plan on N workers takes
    about 1/N of the time. A pass with a `ListingCache` lists them (no value decides which are needed)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    cache = estimator.cache
    listing = ListingCache(cache)
    estimator.cache = listing
    try:
        for task in tasks:
            estimator.task(task)
    finally:
        estimator.cache = cache
        estimator.by_spec.clear()  # costs of blanks
        estimator.notes.clear()
    wanted = list(listing.wanted.items())
    if len(wanted) < 2 or processes < 2:
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(processes, len(wanted)), mp_context=context) as pool:
        running = [(key, pool.submit(_run, measure)) for key, measure in wanted]
        for key, future in running:
            try:
                cache.put(key, future.result())
            except Exception:  # noqa: BLE001 - the serial pass makes it again and reports the error
                continue


def _run(measure: Measurement) -> dict[str, Any]:
    """`measure.run()` in a worker (the Measurement travels, not a bound method looked up by name)."""
    return measure.run()


def schedule_wall_s(tasks: list[TaskCost], slots: int, seconds: dict[str, float]) -> float:
    """Replay the driver: producers in order (draws first), each training once its producer is done.

    A task runs for `seconds[key]` and holds min(N, slots) slots when it trains in N processes.
    """
    dependents: dict[str, list[TaskCost]] = defaultdict(list)
    for task in tasks:
        if task.producer is not None:
            dependents[task.producer].append(task)
    producers = [t for t in tasks if t.producer is None]
    ready = deque(sorted(producers, key=lambda t: not get_kind(t.kind).in_driver))
    running: list[tuple[float, int, TaskCost, int]] = []
    now, free, order = 0.0, slots, 0
    while True:
        while ready and min(ready[0].nproc, slots) <= free:
            task = ready.popleft()
            held = min(task.nproc, slots)
            free -= held
            order += 1
            heapq.heappush(running, (now + seconds[task.key], order, task, held))
        if not running:
            return now
        now, _, task, held = heapq.heappop(running)
        free += held
        ready.extend(dependents.get(task.key, []))


class Estimator:
    """Costs tasks one by one, measuring each distinct shape once (and data sizes once)."""

    def __init__(
        self,
        config: ResolvedStudy,
        device: str,
        measured: bool,
        threads: int,
        cache: TimingCache | ListingCache,
    ):
        self.config, self.device, self.measured, self.threads, self.cache = (
            config,
            device,
            measured,
            threads,
            cache,
        )
        self.machine = machine_key(device, threads, measured)
        self.sizes_of: dict[str, Sizes] = {}
        self.by_spec: dict[str, float] = {}
        self.notes: list[str] = []

    def task(self, task: Task) -> TaskCost:
        """The task's estimate, as its kind prices it (`TaskKind.price`)."""
        return get_kind(task.kind).price(task, self)

    def training_seconds(self, setting: dict[str, Any]) -> float:
        """One training of a representative cell in `setting` (space, data, protocol, overrides)."""
        return self._memo("training", setting, self._evaluation)

    def search_seconds(self, spec: dict[str, Any]) -> float:
        """One search as a search task's spec (without its seed) describes it."""
        return self._memo("searching", spec, self._search)

    def timing(self, shape: dict[str, Any], measure: Measurement) -> dict[str, Any]:
        """This machine's timing of `shape` (plain data), measured the first time (`measure`)."""
        return self.cache.get(shape_key(self.machine, shape), measure)

    def count(self, shape: dict[str, Any], measure: Measurement) -> dict[str, Any]:
        """A count (multiply-adds) of `shape`: the same on every machine."""
        return self.cache.get(shape_key("macs", shape), measure)

    def note(self, text: str) -> None:
        """A note the plan prints once."""
        if text not in self.notes:
            self.notes.append(text)

    def _memo(self, kind: str, spec: dict[str, Any], cost) -> float:
        key = canonical_json({"kind": kind, **spec})
        if key not in self.by_spec:
            self.by_spec[key] = cost(spec)
        return self.by_spec[key]

    # -- data -----------------------------------------------------------------------------------------

    def sizes(self, data: dict[str, Any]) -> Sizes:
        key = canonical_json(data)
        if key not in self.sizes_of:
            self.sizes_of[key] = _read_sizes(data) or self._published_sizes(data)
        return self.sizes_of[key]

    def _published_sizes(self, data: dict[str, Any]) -> Sizes:
        if data["kind"] == "proxy":
            base = self.sizes(data["of"])
            return _proxy_sizes(base, data)
        name = data.get("options", {}).get("name") or data["dataset"]
        published = published_size(data["dataset"], data.get("options", {}))
        if published is None:
            raise ConfigError(
                f"plan: dataset {name!r} is not on this machine and its size is not known; "
                "get the dataset (nastransfer datasets) to plan with it"
            )
        note = f"{name}: not on this machine; planned with its published size ({published.train:,} images)"
        if note not in self.notes:
            self.notes.append(note)
        return _paper_sizes(DataShape(published.train, published.classes, published.channels, published.side))

    # -- searches -------------------------------------------------------------------------------------

    def _search(self, spec: dict[str, Any]) -> float:
        from nastransfer.search import Budget
        from nastransfer.search.gradient import GradientSearcher
        from nastransfer.search.zero_cost import ZeroCostSearcher
        from nastransfer.study.worker.body import make_searcher

        if spec["data"]["kind"] == "table":
            return 0.0
        searcher = make_searcher(spec["searcher"], spec["params"])
        if isinstance(searcher, ZeroCostSearcher):
            return self._zero_cost_search(spec, searcher)
        if not isinstance(searcher, GradientSearcher):
            if spec["searcher"] != "random":
                self.notes.append(f"search {spec['method']!r}: not a supernet method; costed as 0")
            return 0.0
        space, budget = spec["space"], Budget.from_dict(spec["budget"])
        searcher.check(space, budget)
        sizes = self.sizes(spec["data"])
        train = max(1, round(sizes.search_train * budget.data_fraction))
        val = max(1, round(sizes.search_val * budget.data_fraction))
        steps = min(train, val) // budget.batch_size
        arch_epochs = sum(searcher.arch_active(e, budget) for e in range(budget.epochs))
        shape = sizes.shape
        total = 0.0
        for stage in range(len(searcher.stages(space, budget))):
            for arch, epochs in ((True, arch_epochs), (False, budget.epochs - arch_epochs)):
                if epochs:
                    cost = self._search_step(searcher, spec, budget, stage, arch, shape)
                    total += epochs * (cost.epoch_s + steps * cost.step_s)
        return total + self._search_finish(
            searcher, spec, budget, shape, min(VAL_BATCHES, val // budget.batch_size)
        )

    def _zero_cost_search(self, spec: dict[str, Any], searcher: Any) -> float:
        """A training-free search: its predictor calls (`n_samples`) x one call's measured seconds."""
        from nastransfer.search import Budget

        budget = Budget.from_dict(spec["budget"])
        searcher.check(spec["space"], budget)
        if not self.measured:
            note = f"search {spec['method']!r}: predictors not timed for an absent GPU; costed as 0"
            if note not in self.notes:
                self.notes.append(note)
            return 0.0
        shape = self.sizes(spec["data"]).shape
        key = _search_shape(spec, budget, shape) | {"per_call": True}
        args = (searcher, spec["space"], budget, shape, self.threads)
        found = self.timing(key, Measurement(zero_cost_call, args, {"per_call_s": 0.0}))
        return budget.n_samples * found["per_call_s"]

    def _search_step(self, searcher, spec, budget, stage: int, arch: bool, shape: DataShape) -> StepCost:
        key = _search_shape(spec, budget, shape) | {"stage": stage, "arch": arch}
        if self.measured:
            args = (
                search_step,
                searcher,
                spec["space"],
                budget,
                stage,
                arch,
                shape,
                self.device,
                self.threads,
            )
            return StepCost(**self.timing(key, Measurement(as_dict, args, STEP_BLANK)))
        macs = self._supernet_macs(searcher, spec, budget, stage, shape)
        return StepCost(flops_seconds(macs, budget.batch_size, rate=GPU_SEARCH_FLOPS) * (2 if arch else 1))

    def _supernet_macs(self, searcher, spec, budget, stage: int, shape: DataShape) -> float:
        """Counted once per supernet and stage, whatever the source (`step_costs.scale_macs`)."""
        from nastransfer.search.gradient import GradientSearcher

        space, size = spec["space"], budget.image_size or shape.size
        layers = searcher.stages(space, budget)[stage].layers
        depths = counted_depths(space, layers)
        # `GradientSearcher.build` makes a supernet of the form, width and depth alone.
        key = {"space": space, "form": searcher.form, "channels": budget.channels, "side": count_side(size)}
        if type(searcher).build is not GradientSearcher.build:
            key |= {"searcher": spec["searcher"], "params": spec["params"]}
        blank = dict.fromkeys(("side", "stem", "conv", "linear", "classifier"), 1.0)
        parts = [
            self.count(
                key | {"depth": depth},
                Measurement(supernet_macs_parts, (searcher, space, budget, stage, key["side"], depth), blank),
            )
            for depth in depths
        ]
        return scale_macs(depth_macs(parts, depths, layers), shape, size)

    def _search_finish(self, searcher, spec, budget, shape: DataShape, val_batches: int) -> float:
        """The final derivation; RSWS scores n_samples candidates on up to VAL_BATCHES batches each."""
        candidates = max(1, budget.n_samples)
        key = _search_shape(spec, budget, shape) | {"finish": True}
        if self.measured:
            args = (search_finish, searcher, spec["space"], budget, shape, self.device, self.threads)
            found = self.timing(key, Measurement(as_dict, args, STEP_BLANK))
            return candidates * StepCost(**found).step_s * max(1, val_batches) / VAL_BATCHES
        if budget.n_samples == 0:
            return 0.0
        macs = self._supernet_macs(searcher, spec, budget, 0, shape)
        return flops_seconds(macs, candidates * val_batches * budget.batch_size, 1, GPU_SEARCH_FLOPS)

    # -- trainings ------------------------------------------------------------------------------------

    def _evaluation(self, setting: dict[str, Any]) -> float:
        from nastransfer.spaces import get_space
        from nastransfer.train import get_protocol

        if setting["data"]["kind"] == "table":
            return 0.0
        protocol = get_protocol(setting["protocol"], **setting["overrides"])
        sizes = self.sizes(setting["data"])
        # The official split trains on all the training files (its test files are about the paper's 20 %).
        whole = sizes.shape.images if protocol.split == "official" else sizes.train
        train = max(1, round(whole * protocol.data_fraction))
        steps = math.ceil(train / protocol.batch_size)
        tested = max(1, round(sizes.test * protocol.test_fraction))
        test_batches = math.ceil(tested / protocol.eval_batch_size)
        cell = get_space(setting["space"]).sample(0)
        key = {
            "train": protocol.model_dump(
                mode="json", exclude={"name", "description", "epochs", "data_fraction", "test_fraction"}
            ),
            "cell": str(cell),
            "data": _timed_images(sizes.shape, protocol.image_size),
        }
        if self.measured:
            args = (cell, protocol, sizes.shape, self.device, self.threads)
            found = self.timing(key, Measurement(train_steps_dict, args, TRAIN_BLANK))
            step, test = StepCost(**found["step"]), StepCost(**found["test"])
            return protocol.epochs * (step.epoch_s + steps * step.step_s + test_batches * test.step_s)
        key["data"] |= {"classes": sizes.shape.classes}  # counts are exact (ImageNet-22K's classifier)
        count = Measurement(train_macs_dict, (cell, protocol, sizes.shape), {"macs": 0.0})
        macs = float(self.count(key, count)["macs"])
        return protocol.epochs * (flops_seconds(macs, train) + flops_seconds(macs, tested, passes=1))


def _search_shape(spec: dict[str, Any], budget, shape: DataShape) -> dict[str, Any]:
    """What fixes a search step's cost: method, its params, the network and batch, the images."""
    fixed = budget.to_dict()
    for name in ("epochs", "data_fraction", "n_samples"):
        fixed.pop(name)
    return {
        "searcher": spec["searcher"],
        "params": spec["params"],
        "space": spec["space"],
        "budget": fixed,
        "data": _timed_images(shape, budget.image_size),
    }


def _timed_images(shape: DataShape, image_size: int | None) -> dict[str, int]:
    """What of the images fixes a step's time: channels and the side the network sees. Not the stored
    side nor the classes: they change only the resize and the classifier, a negligible part of a
    step, so sources of one input shape (the proxy designs of one dataset) share a timing."""
    return {"channels": shape.channels, "size": image_size or shape.size}


def _paper_sizes(shape: DataShape) -> Sizes:
    """Sizes under the paper's 40/40/20 split of the training images."""
    n = shape.images
    return Sizes(shape, round(0.4 * n), round(0.4 * n), round(0.8 * n), n - 2 * round(0.4 * n))


def _proxy_sizes(base: Sizes, data: dict[str, Any]) -> Sizes:
    """A proxy of a dataset known only by its size: classes, images per class or fraction, resolution."""
    shape = base.shape
    per_class_all = shape.images / shape.classes
    classes = data["classes"]
    kept = shape.classes if classes is None else (classes if isinstance(classes, int) else len(classes))
    per_class = data["per_class"] or per_class_all * (data["fraction"] or 1.0)
    side = data["resolution"] or shape.size
    return _paper_sizes(
        DataShape(max(1, round(kept * min(per_class, per_class_all))), kept, shape.channels, side)
    )


def _read_sizes(data: dict[str, Any]) -> Sizes | None:
    """Sizes of a dataset (or proxy) that is on this machine; None when it is not."""
    from nastransfer.data import paper_splits
    from nastransfer.study.worker.body import load_data

    if not _on_this_machine(data):
        return None
    try:
        dataset = load_data(canonical_json(data))
    except NastransferError:
        return None
    splits = paper_splits(dataset, seed=0)
    shape = DataShape(len(dataset), dataset.num_classes, dataset.in_channels, dataset.image_size)
    return Sizes(
        shape, len(splits.train), len(splits.val), len(splits.train) + len(splits.val), len(splits.test)
    )


def _on_this_machine(data: dict[str, Any]) -> bool:
    """Whether the dataset's files (or its package) are here, without reading them."""
    from nastransfer.data import dataset_spec

    if data["kind"] == "proxy":
        return _on_this_machine(data["of"])
    spec = dataset_spec(data["dataset"])
    return spec.package is not None or spec.find(data["root"]) is not None
