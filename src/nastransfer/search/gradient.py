"""The epoch loop the supernet methods share: alternate architecture and weight steps, record, checkpoint.

A method is a subclass that names its supernet form and hyper-parameters and overrides the hooks
where its algorithm differs (temperature, warm-up, stages, sampled paths, final derivation).
Every epoch ends with an atomic checkpoint of everything the next epoch depends on, RNG included,
so a killed search rerun on the same workdir finishes exactly as an unbroken one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F

from nastransfer.data import Splits
from nastransfer.errors import CheckpointError, ConfigError
from nastransfer.nets.compiling import compile_net
from nastransfer.nets.supernets import Supernet, build_supernet
from nastransfer.runtime import (
    CheckpointDir,
    Cost,
    CostMeter,
    capture_rng,
    pick_device,
    restore_rng,
    seed_everything,
)
from nastransfer.runtime import progress as progress_bar
from nastransfer.search.base import Searcher, SearchResult
from nastransfer.search.budget import Budget
from nastransfer.search.inputs import SearchData, search_data
from nastransfer.search.params import DEVICE, Param
from nastransfer.search.speed import CompileSetting, SearchShape, search_compiles
from nastransfer.search.unrolled import unrolled_arch_gradients
from nastransfer.spaces import get_space

CHECKPOINT_FORMAT = 2  # 2: NB201 search cells keep no BatchNorm running statistics
#: What a step reports: loss, correct predictions, batch size.
Step = tuple[float, float, int]


@dataclass(frozen=True)
class Hyper:
    """Optimiser settings; defaults are DARTS's published ones (Liu et al., ICLR 2019, and its
    released train_search.py)."""

    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3


#: What a supernet method's `params` may set: each `Hyper` field, typed and bounded (learning rates
#: at 10, far above any published one; Adam needs betas in [0, 1)), and the searcher's own options.
GRADIENT_PARAMS: tuple[Param, ...] = (
    Param("order", int, "1: first-order architecture gradients, 2: unrolled ones", choices=(1, 2)),
    DEVICE,
    Param(
        "compile",
        object,
        "compile the supernet's steps; auto: where a measured compile repays within the search",
        choices=("auto", True, False),
    ),
    Param("lr", float, "initial learning rate of the weights' SGD", low=0, high=10, open_low=True),
    Param("lr_min", float, "final learning rate of the weights' cosine schedule", low=0, high=10),
    Param("momentum", float, "SGD momentum of the weights", low=0, high=1, open_high=True),
    Param("nesterov", bool, "Nesterov momentum for the weights"),
    Param("weight_decay", float, "L2 weight decay of the weights", low=0, high=1),
    Param("grad_clip", float, "norm the weights' gradients are clipped to", low=0, high=1e6, open_low=True),
    Param("arch_lr", float, "Adam learning rate of the architecture", low=0, high=10, open_low=True),
    Param(
        "arch_betas", float, "Adam betas of the architecture", low=0, high=1, open_high=True, items=2
    ),
    Param("arch_weight_decay", float, "L2 weight decay of the architecture", low=0, high=1),
)


@dataclass(frozen=True)
class Stage:
    """One phase of a search: network depth, ops kept per edge (None: all), skip-connection dropout."""

    layers: int
    keep: int | None = None
    skip_dropout: float = 0.0


@dataclass
class RunState:
    """What the loop carries from epoch to epoch (and what a checkpoint holds)."""

    net: Supernet
    weight_opt: torch.optim.SGD
    arch_opt: torch.optim.Adam
    schedule: torch.optim.lr_scheduler.CosineAnnealingLR
    stage: int
    history: list[dict[str, Any]]
    cost: Cost | None = None
    initial_entropy: float = 0.0
    #: What the steps call: `net` itself, or its torch.compile'd form (the same weights).
    step_net: torch.nn.Module = field(init=False)
    #: Whether the steps run compiled; None until the search has chosen (`search.speed`).
    compiled: bool | None = None

    def __post_init__(self) -> None:
        self.step_net = self.net

    def use_compile(self, compiled: bool) -> None:
        """Run the steps through the compiled supernet (or `net` itself); `net` keeps the state."""
        self.compiled = compiled
        self.step_net = compile_net(self.net) if compiled else self.net


@contextmanager
def frozen(params: list[torch.nn.Parameter]) -> Iterator[None]:
    """Parameters that need no gradient in a step: autograd skips their (costly) weight gradients."""
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)


class GradientSearcher(Searcher):
    """Base of the supernet methods (DARTS, PC-DARTS, GDAS, P-DARTS, RSWS)."""

    form = "mixed"
    default_hyper = Hyper()
    #: Order of the two steps on each batch pair: DARTS updates the architecture first, GDAS the weights.
    weight_step_first = False
    #: Whether the supernet's forward keeps its graphs all search long, so `compile="auto"` may
    #: compile it (`search.speed`); False where each sample or epoch would compile a new graph.
    compilable = True
    params_schema = GRADIENT_PARAMS

    def __init__(
        self, order: int = 1, device: str | None = None, compile: CompileSetting = "auto", **hyper: Any
    ) -> None:
        """Options as `params_schema` allows them (the registry checks each before this runs)."""
        if compile is True and not self.compilable:
            raise ConfigError(
                f"{self.name}: compile = true would compile a new graph again and again during the "
                "search (a sample or an epoch each); use \"auto\" or false"
            )
        self.order = order
        self.device = device
        self.compile = compile
        self.hyper = replace(self.default_hyper, **hyper)

    # --- hooks ------------------------------------------------------------------------------------
    def check(self, space: str, budget: Budget) -> None:
        """Raise ConfigError for a budget this method cannot run."""
        chosen = get_space(space)
        if chosen.supernet is None:
            raise ConfigError(f"{self.name}: search space {space!r} has no supernet to search")
        if budget.layers < chosen.min_search_layers:
            raise ConfigError(
                f"{self.name}: budget layers {budget.layers} < {chosen.min_search_layers}, "
                f"the fewest a {space} supernet has"
            )

    def stages(self, space: str, budget: Budget) -> list[Stage]:
        return [Stage(budget.layers)]

    def build(self, space: str, budget: Budget, data: SearchData, stage: Stage) -> Supernet:
        size = {get_space(space).depth_keyword: stage.layers}
        return build_supernet(
            space,
            C=budget.channels,
            num_classes=data.num_classes,
            in_channels=data.in_channels,
            form=self.form,
            **size,
        )

    def begin_epoch(self, net: Supernet, epoch: int, budget: Budget, stage: Stage) -> dict[str, Any]:
        """Per-epoch settings (temperature, dropout); returns what to record of them."""
        return {}

    def arch_active(self, epoch: int, budget: Budget) -> bool:
        return epoch >= budget.warmup_epochs

    def train_logits(self, net: Supernet, x: torch.Tensor) -> torch.Tensor:
        return net(x)

    def end_epoch(self, net: Supernet, data: SearchData, seed: int) -> dict[str, Any]:
        """Extra per-epoch measurements to record."""
        return {}

    def next_stage_masks(self, net: Supernet, keep: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def derive(self, net: Supernet) -> Any:
        return net.genotype()

    def finish(
        self, run: RunState, space: str, data: SearchData, budget: Budget, seed: int
    ) -> tuple[Any, dict]:
        """The final cell and extra result fields."""
        return self.derive(run.net), {}

    # --- the loop ---------------------------------------------------------------------------------
    def search(
        self,
        space: str,
        data: Splits,
        budget: Budget,
        seed: int,
        workdir: str | os.PathLike,
        progress: bool | None = None,
    ) -> SearchResult:
        space = get_space(space).name
        self.check(space, budget)
        device = pick_device(self.device)
        seed_everything(seed)
        inputs = search_data(data, budget, seed, device)
        stages = self.stages(space, budget)
        total = len(stages) * budget.epochs
        fingerprint = {
            "format": CHECKPOINT_FORMAT,
            "method": self.name,
            "order": self.order,
            "space": space,
            "seed": int(seed),
            "budget": budget.to_dict(),
            "hyper": _plain(asdict(self.hyper)),
            "source": f"{inputs.train.dataset.name}:{len(inputs.train.dataset)}:{len(inputs.val.dataset)}",
        }
        checkpoints = CheckpointDir(workdir)
        run, start = self._resume(checkpoints, fingerprint, space, budget, inputs, stages, device)
        if run is None:
            run = self.new_run(space, budget, inputs, stages, 0, device)
            start = 0
        if run.compiled is None:  # a new run, or one resumed from a checkpoint without the choice
            with CostMeter(device) as meter:  # a measurement is part of what the search costs
                steps = (total - start) * inputs.steps()
                self._choose_compile(run, steps, space, budget, inputs, stages, device)
            run.cost = meter.cost if run.cost is None else run.cost + meter.cost
        with progress_bar(total - start, f"{self.name} {space}", enabled=progress) as update:
            for step in range(start, total):
                stage_index, epoch = divmod(step, budget.epochs)
                with CostMeter(device) as meter:
                    record = self.run_epoch(run, inputs, budget, stages[stage_index], epoch)
                    record.update(epoch=step, stage=stage_index)
                    run.history.append(record)
                    if epoch == budget.epochs - 1 and stage_index + 1 < len(stages):
                        masks = self.next_stage_masks(run.net, stages[stage_index + 1].keep)
                        run = self.new_run(
                            space, budget, inputs, stages, stage_index + 1, device, run, masks
                        )
                run.cost = meter.cost if run.cost is None else run.cost + meter.cost
                checkpoints.save(step, self._state(run, fingerprint, step))
                update(loss=record["train_loss"], acc=record["train_acc"])
        with CostMeter(device) as meter:
            genotype, extra = self.finish(run, space, inputs, budget, seed)
        cost = meter.cost if run.cost is None else run.cost + meter.cost
        extra = {
            "initial_entropy": run.initial_entropy,
            "stages": [asdict(s) for s in stages],
            "compiled": run.compiled,
            **extra,
        }
        return SearchResult(
            genotype, run.history, cost, budget, method=self.name, seed=int(seed), extra=extra
        )

    def _choose_compile(
        self,
        run: RunState,
        steps: int,
        space: str,
        budget: Budget,
        inputs: SearchData,
        stages: list[Stage],
        device: torch.device,
    ) -> None:
        """Compile ``run``'s steps or not, for the ``steps`` batch pairs left (`search.speed`)."""
        shape = SearchShape(
            steps=steps,
            batch=(budget.batch_size, inputs.in_channels, inputs.image_size, inputs.image_size),
            num_classes=inputs.num_classes,
            arch_steps=self.arch_active(budget.epochs - 1, budget),
        )

        def fresh_run() -> RunState:
            return self.new_run(space, budget, inputs, stages, run.stage, device)

        run.use_compile(search_compiles(self, run, fresh_run, shape, device))

    def new_run(
        self,
        space: str,
        budget: Budget,
        inputs: SearchData,
        stages: list[Stage],
        stage: int,
        device: torch.device,
        previous: RunState | None = None,
        masks: dict[str, torch.Tensor] | None = None,
    ) -> RunState:
        """A run at `stage`: the stage's supernet (pruned by `masks`) and its optimisers, carrying on
        `previous` (its history, cost and compile choice) at a stage change. Public: the search
        starts here, and the cost plan times an epoch of a fresh run (`run_epoch`) without searching."""
        net = self.build(space, budget, inputs, stages[stage]).to(device)
        for kind, mask in (masks or {}).items():
            net.set_op_mask(kind, mask)
        h = self.hyper
        weight_opt = torch.optim.SGD(
            net.weights(), h.lr, momentum=h.momentum, weight_decay=h.weight_decay, nesterov=h.nesterov
        )
        arch_opt = torch.optim.Adam(
            net.arch_parameters(), h.arch_lr, betas=h.arch_betas, weight_decay=h.arch_weight_decay
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(weight_opt, budget.epochs, eta_min=h.lr_min)
        run = RunState(
            net,
            weight_opt,
            arch_opt,
            schedule,
            stage,
            history=previous.history if previous else [],
            cost=previous.cost if previous else None,
            initial_entropy=previous.initial_entropy if previous else net.entropy(),
        )
        if previous is not None and previous.compiled is not None:
            run.use_compile(previous.compiled)
        return run

    def run_epoch(
        self, run: RunState, inputs: SearchData, budget: Budget, stage: Stage, epoch: int
    ) -> dict[str, Any]:
        """One epoch of search: a weight (and, once active, an architecture) step per batch pair of
        `inputs`, then the schedule's step; returns the epoch's record. What the cost plan times."""
        net = run.net
        settings = self.begin_epoch(net, epoch, budget, stage)
        inputs.set_epoch(len(run.history))
        arch_on = self.arch_active(epoch, budget)
        train, val = _Mean(), _Mean()
        net.train()
        for train_batch, val_batch in inputs.batches():
            weight_stats, arch_stats = self.batch_pair(run, train_batch, val_batch, arch_on)
            train.add(*weight_stats)
            if arch_stats is not None:
                val.add(*arch_stats)
        lr = run.weight_opt.param_groups[0]["lr"]
        run.schedule.step()
        return {
            "lr": lr,
            "arch_updates": arch_on,
            "train_loss": train.loss,
            "train_acc": train.acc,
            "val_loss": val.loss,
            "val_acc": val.acc,
            "entropy": net.entropy(),
            "arch_distribution": {k: v.tolist() for k, v in net.arch_distribution().items()},
            "genotype": str(self.derive(net)),
            **settings,
            **self.end_epoch(net, inputs, inputs.train.seed),
        }

    def batch_pair(
        self,
        run: RunState,
        train_batch: tuple[torch.Tensor, torch.Tensor],
        val_batch: tuple[torch.Tensor, torch.Tensor],
        arch_on: bool,
    ) -> tuple[Step, Step | None]:
        """The weight step on ``train_batch`` and, if ``arch_on``, the architecture step on
        ``val_batch``, in this method's order; their (loss, correct, count)."""
        arch_stats = None
        if self.weight_step_first:
            weight_stats = self._weight_step(run, *train_batch)
        if arch_on:
            arch_stats = self._arch_step(run, *train_batch, *val_batch)
        if not self.weight_step_first:
            weight_stats = self._weight_step(run, *train_batch)
        return weight_stats, arch_stats

    def _weight_step(self, run: RunState, x: torch.Tensor, y: torch.Tensor) -> Step:
        net = run.net
        with frozen(net.arch_parameters()):
            run.weight_opt.zero_grad(set_to_none=True)
            logits = self.train_logits(run.step_net, x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.weights(), self.hyper.grad_clip)
            run.weight_opt.step()
        return float(loss.detach()), _correct(logits, y), len(y)

    def _arch_step(
        self, run: RunState, xt: torch.Tensor, yt: torch.Tensor, xv: torch.Tensor, yv: torch.Tensor
    ) -> Step:
        net = run.net
        run.arch_opt.zero_grad(set_to_none=True)
        if self.order == 2:
            grads, _ = unrolled_arch_gradients(
                net,
                lambda: F.cross_entropy(net(xt), yt),
                lambda: F.cross_entropy(net(xv), yv),
                run.weight_opt,
            )
            for p, g in zip(net.arch_parameters(), grads, strict=True):
                p.grad = g
            with torch.no_grad():
                logits = net(xv)
            loss = F.cross_entropy(logits, yv)
        else:
            with frozen(net.weights()):
                logits = run.step_net(xv)
                loss = F.cross_entropy(logits, yv)
                loss.backward()
        run.arch_opt.step()
        return float(loss.detach()), _correct(logits, yv), len(yv)

    # --- checkpoints ------------------------------------------------------------------------------
    def _state(self, run: RunState, fingerprint: dict, step: int) -> dict[str, Any]:
        return {
            "fingerprint": fingerprint,
            "step": step,
            "stage": run.stage,
            "net": run.net.state_dict(),
            "weight_opt": run.weight_opt.state_dict(),
            "arch_opt": run.arch_opt.state_dict(),
            "schedule": run.schedule.state_dict(),
            "rng": capture_rng(),
            "history": run.history,
            "cost": None if run.cost is None else run.cost.to_dict(),
            "initial_entropy": run.initial_entropy,
            "compiled": run.compiled,
        }

    def _resume(
        self,
        checkpoints: CheckpointDir,
        fingerprint: dict,
        space: str,
        budget: Budget,
        inputs: SearchData,
        stages: list[Stage],
        device: torch.device,
    ) -> tuple[RunState | None, int]:
        found = checkpoints.load_latest(map_location=device)
        if found is None:
            return None, 0
        step, state = found
        if state.get("fingerprint") != fingerprint:
            raise CheckpointError(
                f"workdir {checkpoints.root} holds a different search (method, space, seed, budget or source "
                "differ); use a fresh workdir"
            )
        run = self.new_run(space, budget, inputs, stages, int(state["stage"]), device)
        run.net.load_state_dict(state["net"])
        run.weight_opt.load_state_dict(state["weight_opt"])
        run.arch_opt.load_state_dict(state["arch_opt"])
        run.schedule.load_state_dict(state["schedule"])
        run.history = list(state["history"])
        run.cost = None if state["cost"] is None else Cost.from_dict(state["cost"])
        run.initial_entropy = float(state["initial_entropy"])
        if "compiled" in state:  # the choice the run made at its start holds to its end
            run.use_compile(bool(state["compiled"]))
        restore_rng(state["rng"])
        return run, step + 1


class _Mean:
    """Running mean of loss and accuracy over the steps of an epoch."""

    def __init__(self) -> None:
        self.loss_sum = self.correct = 0.0
        self.count = 0

    def add(self, loss: float, correct: float, count: int) -> None:
        self.loss_sum += loss * count
        self.correct += correct
        self.count += count

    @property
    def loss(self) -> float | None:
        return self.loss_sum / self.count if self.count else None

    @property
    def acc(self) -> float | None:
        return 100.0 * self.correct / self.count if self.count else None


def _correct(logits: torch.Tensor, y: torch.Tensor) -> float:
    return float((logits.argmax(dim=1) == y).sum())


def _plain(value: Any) -> Any:
    """Tuples to lists, so a fingerprint compares equal after a checkpoint round trip."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
