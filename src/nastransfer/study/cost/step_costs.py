"""Per-step costs of the networks a study trains, measured on this machine (or estimated from FLOPs).

A *shape* is everything that fixes the cost of one step: the method or protocol, the network's
size and the images' size and classes. For each distinct shape the model runs the study's own
code (the searcher's epoch, the trainer's epoch and test pass) on synthetic batches: a warm-up
epoch of one batch, then an epoch of no batch (the epoch's fixed overhead) and one of one batch
(overhead + a step). Seconds are process CPU-seconds on the CPU
(what `runtime.CostMeter` reports) and synchronised wall seconds on a GPU.

For a GPU this machine lacks, a step is costed from the network's multiply-adds at an assumed
throughput (`GPU_TRAIN_FLOPS`, `GPU_SEARCH_FLOPS`), and the result is marked so.

Timings are kept in the one per-machine cache (`runtime.speed_cache.TimingCache`: `speed.json` under
`$NASTRANSFER_CACHE`, else `~/.cache/nastransfer`), keyed by machine (CPU model, GPU name), torch
version, threads, the timing method and shape, so a second plan of the same study measures nothing,
and timings an older method made are not reused.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nastransfer.runtime import cpu_model
from nastransfer.runtime.speed_cache import TimingCache

#: Effective throughputs assumed for a GPU this machine does not have, in FLOP/s (2 per multiply-add;
#: forward + backward = 3 forwards), from published run times of the DARTS code on DARTS networks.
#: Evaluation networks: DARTS_V2 (C=36, 20 cells, 528 M mult-adds) trains 600 CIFAR-10 epochs in
#: about 24 h on a V100 (github.com/quark0/darts/issues/80: 2.5 min an epoch), and DARTS's ImageNet
#: network (530 M) its 250 epochs in 12 days on a GTX 1080 Ti (Liu et al. 2019): both ~1.0 TFLOP/s.
#: Supernets run many small kernels: DARTS's first-order search (C=16, 8 cells, 300 M mult-adds,
#: 50 epochs on 25,000 images, a weight and an architecture step per batch) costs 1.5 GPU-days for
#: four runs (1080 Ti, Liu et al. 2019): ~0.14 TFLOP/s. So estimates are in the papers' GPU-days;
#: a current GPU with bf16 is faster.
GPU_TRAIN_FLOPS = 1.0e12
GPU_SEARCH_FLOPS = 0.14e12
#: Multiply-adds of one measured step at most: larger batches are timed smaller and scaled linearly.
STEP_MACS = 3.0e9
MIN_BATCH = 8
WARM_BATCH = 8
MIN_TIMED_S, MAX_TIMED_BATCHES = 0.25, 16  # short steps are timed over up to 16 batches
VAL_BATCHES = 10  # search validation batches: RSWS scores a candidate on up to 10
#: How steps are timed; raised with every change to it, so that timings cached by an older method
#: (2: five timed epochs a shape; 3: warm-up, empty and one-batch epochs) are measured anew.
TIMING_METHOD = 3


@dataclass(frozen=True)
class StepCost:
    """Seconds of one step (at the full batch) and of an epoch's fixed overhead (checks, derivations)."""

    step_s: float
    epoch_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"step_s": self.step_s, "epoch_s": self.epoch_s}


@dataclass(frozen=True)
class DataShape:
    """What the networks see of a dataset: images, classes, channels and stored side."""

    images: int
    classes: int
    channels: int
    size: int


def machine_key(device: str, threads: int, measured: bool) -> str:
    """Who measured, and how: CPU model (or GPU name), threads, torch version, timing method; FLOP
    estimates name their rate."""
    import torch

    if not measured:
        return f"flops:{GPU_TRAIN_FLOPS:g}:{GPU_SEARCH_FLOPS:g}"
    name = torch.cuda.get_device_name(0) if device == "cuda" else cpu_model()
    return f"{name}|{device}|threads={threads}|torch={torch.__version__}|timing={TIMING_METHOD}"


@dataclass(frozen=True)
class Measurement:
    """One timing or count, made once per shape: `run()` returns the plain dict the cache keeps.

    A module-level function and picklable arguments, so that a process pool can make several at once
    (`plan.measure_missing`); `blank` has the result's keys, for the pass that lists what is missing.
    """

    fn: Callable[..., dict[str, Any]]
    args: tuple[Any, ...]
    blank: dict[str, Any]

    def run(self) -> dict[str, Any]:
        return self.fn(*self.args)

    def __call__(self) -> dict[str, Any]:
        """What `TimingCache.get` calls to measure."""
        return self.run()


STEP_BLANK = {"step_s": 0.0, "epoch_s": 0.0}


def as_dict(fn: Callable[..., StepCost], *args: Any) -> dict[str, Any]:
    """`fn(*args).to_dict()`, as a picklable Measurement function."""
    return fn(*args).to_dict()


class ListingCache:
    """A stand-in for the TimingCache in a pass that only lists what is missing: cached values as they
    are, a blank for each missing one, and the missing measurements by key in `wanted`."""

    def __init__(self, cache: TimingCache) -> None:
        self.cache = cache
        self.wanted: dict[str, Measurement] = {}

    def get(self, key: str, measure: Measurement) -> dict[str, Any]:
        found = self.cache.find(key)
        if found is None:
            self.wanted.setdefault(key, measure)
            return measure.blank
        return found


# -- synthetic data ---------------------------------------------------------------------------------


def _images(shape: DataShape, count: int, seed: int = 0):
    """`count` random uint8 images of `shape`, every class present (so stratified views work)."""
    import numpy as np

    from nastransfer.data import ArrayDataset, Subset

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, shape.channels, shape.size, shape.size), dtype=np.uint8)
    labels = np.arange(count) % shape.classes
    dataset = ArrayDataset(images, labels, [str(i) for i in range(shape.classes)], "synthetic")
    return Subset(dataset, np.arange(count))


@contextmanager
def torch_threads(count: int):
    """Torch's thread count set to a worker's for the block (timings are of the workers' threads)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _clock(device) -> Callable[[], float]:
    """Process CPU-seconds on the CPU (as CostMeter), synchronised wall seconds on a GPU."""
    import torch

    if device.type == "cuda":

        def wall() -> float:
            torch.cuda.synchronize(device)
            return time.perf_counter()

        return wall
    return time.process_time


def _step_and_overhead(
    run_epoch: Callable[[Any], None], batches: Callable[[int], Any], empty: Any, clock, warm: Any = None
) -> tuple[float, float]:
    """(per step, per epoch): warm up on an epoch of `warm` (default: one batch), time an epoch of
    `empty` (no batch: the fixed overhead) and one of one batch; a step under MIN_TIMED_S is timed
    again over enough batches (one short step is too noisy). `batches(n)` is an n-batch epoch's data."""

    def seconds(data: Any) -> float:
        start = clock()
        run_epoch(data)
        return clock() - start

    one = batches(1)
    run_epoch(one if warm is None else warm)
    overhead = seconds(empty)
    step = max(0.0, seconds(one) - overhead)
    count = min(MAX_TIMED_BATCHES, math.ceil(MIN_TIMED_S / max(step, 1e-4)))
    if count > 1:
        step = max(0.0, seconds(batches(count)) - overhead) / count
    return step, overhead


class _NoBatches:
    """Search inputs that yield no batch: an epoch over them costs the epoch's fixed overhead alone."""

    def __init__(self, inputs: Any) -> None:
        self._inputs = inputs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inputs, name)

    def batches(self):
        return iter(())


def measured_batch(batch: int, macs_per_image: float) -> int:
    """The batch actually timed: the full one unless a step would exceed STEP_MACS."""
    return max(1, min(batch, max(MIN_BATCH, int(STEP_MACS // max(macs_per_image, 1.0)))))


# -- search steps -----------------------------------------------------------------------------------


def search_step(
    searcher: Any,
    space: str,
    budget: Any,
    stage: int,
    arch: bool,
    shape: DataShape,
    device_name: str,
    threads: int,
) -> StepCost:
    """One step (weights, and architecture when `arch`) of `searcher` at `stage` of `budget`, measured."""
    import torch

    from nastransfer.data import Splits
    from nastransfer.search.inputs import search_data

    device = torch.device(device_name)
    with torch_threads(threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        stages = searcher.stages(space, budget)
        batch = measured_batch(budget.batch_size, search_macs(searcher, space, budget, stage, shape))
        timed = budget.replace(batch_size=batch, data_fraction=1.0)
        val = _images(shape, VAL_BATCHES * batch, seed=1)

        def inputs(batches: int, size: int = batch):
            splits = Splits(_images(shape, batches * size), val, val)
            return search_data(splits, timed.replace(batch_size=size), 0, device)

        one = inputs(1)
        # The searcher's own epoch on a fresh supernet of this stage (pruned as that stage is).
        run = searcher.new_run(space, timed, one, stages, stage, device)
        if stage:
            for kind, mask in searcher.next_stage_masks(run.net, stages[stage].keep).items():
                run.net.set_op_mask(kind, mask)
        epoch = timed.warmup_epochs if arch else 0

        def run_epoch(data) -> None:
            run.history.clear()
            searcher.run_epoch(run, data, timed, stages[stage], epoch)

        def batches(count: int):  # one batch: the data the supernet's run was built on
            return one if count == 1 else inputs(count)

        # A supernet step's first-call costs do not need the full batch: warming up on WARM_BATCH
        # images saves most of a step (seconds for a DARTS supernet).
        warm = inputs(1, min(batch, WARM_BATCH))
        step, overhead = _step_and_overhead(run_epoch, batches, _NoBatches(one), _clock(device), warm)
    return StepCost(step * budget.batch_size / batch, overhead)


def search_finish(
    searcher: Any, space: str, budget: Any, shape: DataShape, device_name: str, threads: int
) -> StepCost:
    """The searcher's final derivation with one candidate (`step_s`): RSWS scores each of its n_samples."""
    import torch

    from nastransfer.data import Splits
    from nastransfer.search.inputs import search_data

    device = torch.device(device_name)
    with torch_threads(threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        batch = min(budget.batch_size, 64)
        timed = budget.replace(batch_size=batch, data_fraction=1.0, n_samples=1)
        val = _images(shape, VAL_BATCHES * batch, seed=1)
        data = search_data(Splits(_images(shape, batch), val, val), timed, 0, device)
        stages = searcher.stages(space, timed)
        run = searcher.new_run(space, timed, data, stages, len(stages) - 1, device)
        clock = _clock(device)
        start = clock()
        searcher.finish(run, space, data, timed, 0)
        seconds = clock() - start
    return StepCost(seconds * budget.batch_size / batch)


def zero_cost_call(
    searcher: Any, space: str, budget: Any, shape: DataShape, threads: int
) -> dict[str, float]:
    """Device-seconds of one predictor call of a training-free search (`search.zero_cost`), timed on
    synthetic images of `shape` with the workers' threads."""
    import torch

    from nastransfer.data import Splits

    with torch_threads(threads), torch.random.fork_rng(devices=[]):
        images = _images(shape, max(budget.batch_size, shape.classes))
        return {"per_call_s": searcher.seconds_per_call(space, Splits(images, images, images), budget)}


class _ShapeOnly:
    """What `Searcher.build` reads of its data: classes, channels, image size."""

    def __init__(self, shape: DataShape, size: int) -> None:
        self.num_classes, self.in_channels, self.image_size = shape.classes, shape.channels, size


# -- training steps ---------------------------------------------------------------------------------


def train_steps(
    cell: Any, protocol: Any, shape: DataShape, device_name: str, threads: int
) -> tuple[StepCost, StepCost]:
    """(training step, test batch) of `cell`'s network under `protocol`, measured with the trainer."""
    import torch

    from nastransfer.nets import count_flops
    from nastransfer.train.distributed import DistContext
    from nastransfer.train.evaluator import build_model
    from nastransfer.train.loop import make_loaders
    from nastransfer.train.trainer import Trainer

    device = torch.device(device_name)
    size = protocol.image_size or shape.size
    with torch_threads(threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build_model(cell, protocol, shape.classes, shape.channels)
        macs = count_flops(model, (shape.channels, size, size))
        batch = measured_batch(protocol.batch_size, macs)
        test_batch = measured_batch(protocol.eval_batch_size, macs / 3)
        timed = protocol.model_copy(update={"batch_size": batch, "eval_batch_size": test_batch})
        trainer = Trainer(model, timed, device, DistContext())
        trainer.set_epoch(protocol.epochs // 2)  # mid-run drop-path, like an average epoch

        def loaders(batches: int):
            train = _images(shape, batches * batch)
            test = _images(shape, batches * test_batch, seed=1)
            return make_loaders(train, test, timed, 0, device, DistContext())

        clock = _clock(device)
        none = ([], [])
        step, overhead = _step_and_overhead(lambda pair: trainer.train_epoch(pair[0]), loaders, none, clock)
        test, _ = _step_and_overhead(lambda pair: trainer.test(pair[1]), loaders, none, clock)
    return (
        StepCost(step * protocol.batch_size / batch, overhead),
        StepCost(test * protocol.eval_batch_size / test_batch),
    )


def train_steps_dict(
    cell: Any, protocol: Any, shape: DataShape, device_name: str, threads: int
) -> dict[str, Any]:
    """`train_steps` as the cache keeps it."""
    step, test = train_steps(cell, protocol, shape, device_name, threads)
    return {"step": step.to_dict(), "test": test.to_dict()}


TRAIN_BLANK = {"step": STEP_BLANK, "test": STEP_BLANK}


# -- FLOP estimates ---------------------------------------------------------------------------------

TRAIN_PASSES = 3.0  # forward + backward ~ three forwards
FLOPS_PER_MAC = 2.0


def flops_seconds(
    macs_per_image: float, images: int, passes: float = TRAIN_PASSES, rate: float = GPU_TRAIN_FLOPS
) -> float:
    """Seconds for `images` images of `macs_per_image` multiply-adds at `rate` FLOP/s."""
    return passes * FLOPS_PER_MAC * macs_per_image * images / rate


#: The canonical input a supernet's multiply-adds are counted at: side (for any side divisible by 4),
#: channels and classes.
COUNT_SIDE, COUNT_CHANNELS, COUNT_CLASSES = 8, 3, 10


def count_side(size: int) -> int:
    """The side a supernet is counted at for images of side `size`: COUNT_SIDE when the network's two
    reductions halve `size` evenly (then every feature map scales with the area), else `size` itself."""
    return COUNT_SIDE if size % 4 == 0 else size


def counted_depths(space: str, layers: int) -> tuple[int, ...]:
    """Depths a supernet of `layers` cells is counted at: itself, or two shallower ones that
    `depth_macs` extrapolates from exactly, where the space says its supernet's multiply-adds are
    affine in the depth within a residue class of the depth (`Space.supernet_depth_period`: an NB201
    supernet has `layers` equal cells per stage; a DARTS one gains one normal cell per stage every 3)."""
    from nastransfer.spaces import get_space

    rule = get_space(space).supernet_depth_period
    if rule is None:
        return (layers,)
    period, start = rule
    if layers < start + 2 * period:  # no two shallower depths of its class to count
        return (layers,)
    base = start + (layers - start) % period
    return (base, base + period)


def depth_macs(parts: list[dict[str, float]], depths: tuple[int, ...], layers: int) -> dict[str, float]:
    """The parts at `layers` cells from the parts counted at `counted_depths` (affine in the depth)."""
    if len(depths) == 1:
        return parts[0]
    (low, high), (a, b) = depths, parts
    t = (layers - low) / (high - low)
    return {name: a[name] + t * (b[name] - a[name]) for name in a}


def supernet_macs_parts(
    searcher: Any, space: str, budget: Any, stage: int, side: int, depth: int | None = None
) -> dict[str, float]:
    """Multiply-adds of one stage's supernet (all its ops, as a mixed forward runs them) on one image of
    `side` px, COUNT_CHANNELS channels and COUNT_CLASSES classes, split into the parts that scale
    differently: convolutions (with the area), the stem (also with the input channels), the
    classifier (with the classes) and other linear layers (fixed). `scale_macs` turns them into any
    source's count, so sources share one count (building and running supernets made plans slow).
    `depth` replaces the stage's number of cells (see `counted_depths`)."""
    import torch
    from torch import nn

    from nastransfer.nets.counting import layer_flops

    # One thread: a batch of one image gains nothing from more, and spare threads spin on a busy machine.
    with torch_threads(1), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # GDAS samples its ops: a fixed draw
        canonical = _ShapeOnly(DataShape(0, COUNT_CLASSES, COUNT_CHANNELS, side), side)
        chosen = searcher.stages(space, budget)[stage]
        if depth is not None:
            chosen = dataclasses.replace(chosen, layers=depth)
        net = searcher.build(space, budget, canonical, chosen)
        layers = layer_flops(net, (COUNT_CHANNELS, side, side))
    (_, stem), (_, classifier) = layers[0], layers[-1]
    middle = layers[1:-1]
    return {
        "side": float(side),
        "stem": float(stem),
        "conv": float(sum(m for layer, m in middle if isinstance(layer, nn.Conv2d))),
        "linear": float(sum(m for layer, m in middle if not isinstance(layer, nn.Conv2d))),
        "classifier": float(classifier),
    }


def scale_macs(parts: dict[str, float], shape: DataShape, size: int) -> float:
    """Multiply-adds per image of `shape` at side `size` from `supernet_macs_parts` counted at
    `count_side(size)`: exact (convolutions scale with the area, the stem with the input channels,
    the classifier with the classes)."""
    area = (size / parts["side"]) ** 2
    stem = parts["stem"] * shape.channels / COUNT_CHANNELS
    classifier = parts["classifier"] * shape.classes / COUNT_CLASSES
    return (stem + parts["conv"]) * area + parts["linear"] + classifier


def search_macs(searcher: Any, space: str, budget: Any, stage: int, shape: DataShape) -> float:
    """Multiply-adds per image of one stage's supernet on `shape` (see `supernet_macs_parts`)."""
    size, layers = budget.image_size or shape.size, searcher.stages(space, budget)[stage].layers
    depths = counted_depths(space, layers)
    parts = [supernet_macs_parts(searcher, space, budget, stage, count_side(size), d) for d in depths]
    return scale_macs(depth_macs(parts, depths, layers), shape, size)


def train_macs_dict(cell: Any, protocol: Any, shape: DataShape) -> dict[str, float]:
    """`train_macs` as the cache keeps it."""
    return {"macs": train_macs(cell, protocol, shape)}


def train_macs(cell: Any, protocol: Any, shape: DataShape) -> float:
    """Multiply-adds per image of `cell`'s evaluation network under `protocol`: one forward of one image
    on the CPU (a fraction of a second even at 224 px, where meta tensors took seconds a network)."""
    import torch

    from nastransfer.nets import count_flops
    from nastransfer.train.evaluator import build_model

    size = protocol.image_size or shape.size
    with torch_threads(1):  # as in `supernet_macs_parts`
        with torch.random.fork_rng(devices=[]):
            model = build_model(cell, protocol, shape.classes, shape.channels)
        return float(count_flops(model, (shape.channels, size, size)))
