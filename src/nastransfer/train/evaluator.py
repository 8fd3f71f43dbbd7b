"""`TrainEvaluator`: judge a cell by training its network from scratch on a target and testing it.

Data: with ``split="paper"`` the network trains on the train+validation parts (80 %) of the
paper's stratified 40/40/20 split of the dataset's training files and is tested on its 20 % part;
with ``split="official"`` it trains on the dataset's own training files and tests on its test
files. The split is always drawn with seed 0 (the one search uses), so training seeds vary the
network, never the data. ``data_fraction`` keeps a stratified fraction of the training part,
``test_fraction`` one of the test part (for quick runs such as the quickstart).

The network is the cell's space's evaluation network: a protocol's ``layers`` (cells in all) maps
to the space's layout (`Space.layout`; NB201: 3 stages of N cells and 2 residual reductions, so
N = max(1, (L - 2) // 3): nb201-cifar's C=16, L=17 -> N=5, as published) and the net takes the
protocol settings its space names (DARTS: stem, auxiliary head, drop-path).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

from nastransfer.data import Dataset, Subset, load_dataset, paper_splits, three_way_split
from nastransfer.errors import ConfigError
from nastransfer.evaluation import EvalResult
from nastransfer.nets import count_flops, count_params
from nastransfer.runtime import atomic_write_bytes, pick_device, seed_everything
from nastransfer.spaces import load_genotype, space_of
from nastransfer.train.distributed import init_distributed
from nastransfer.train.loop import train_model
from nastransfer.train.protocols import Protocol, get_protocol

RESULT_NAME = "result.json"
SPEC_NAME = "spec.json"
SPLIT_SEED = 0


def prepare_data(
    dataset: str | Dataset,
    protocol: Protocol,
    data_root: str | Path | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[Dataset, Dataset]:
    """The (train, test) datasets of ``protocol``'s split, with its data fraction applied; `options`
    go to the dataset's reader when it is read here by name."""
    options = options or {}
    if protocol.split == "official":
        if not isinstance(dataset, str):
            raise ConfigError(
                f"protocol {protocol.name!r}: split 'official' needs a dataset name, not a dataset object"
            )
        train_set: Dataset = load_dataset(dataset, root=data_root, train=True, **options)
        test_set: Dataset = load_dataset(dataset, root=data_root, train=False, **options)
    else:
        full = load_dataset(dataset, root=data_root, **options) if isinstance(dataset, str) else dataset
        splits = paper_splits(full, seed=SPLIT_SEED)
        train_set, test_set = splits.train_val, splits.test
    return _stratified(train_set, protocol.data_fraction), _stratified(test_set, protocol.test_fraction)


def _stratified(dataset: Dataset, fraction: float) -> Dataset:
    """A stratified ``fraction`` of ``dataset`` (itself at 1.0), always drawn with the split seed."""
    if fraction >= 1.0:
        return dataset
    kept, _, _ = three_way_split(dataset.labels, (fraction, 1.0 - fraction, 0.0), seed=SPLIT_SEED)
    return Subset(dataset, kept)


def build_model(genotype: Any, protocol: Protocol, num_classes: int, in_channels: int) -> nn.Module:
    """The evaluation network of ``genotype`` sized by ``protocol`` (see the module note)."""
    space = space_of(genotype)
    settings = {
        "stem": protocol.stem,
        "auxiliary": protocol.auxiliary_weight > 0,
        "drop_path": protocol.drop_path,
    }
    return space.build_eval_net(
        genotype,
        C=protocol.channels,
        num_classes=num_classes,
        in_channels=in_channels,
        **space.layout(protocol.layers),
        **{name: settings[name] for name in space.protocol_options},
    )


class TrainEvaluator:
    """Evaluate a cell by final training; a finished work directory returns its stored result."""

    def __init__(
        self,
        data_root: str | Path | None = None,
        device: str | None = None,
        show_progress: bool | None = None,
        data_options: dict[str, Any] | None = None,
    ):
        self.data_root = data_root
        self.data_options = data_options or {}
        self.device = device
        self.show_progress = show_progress

    def evaluate(
        self,
        genotype: Any,
        dataset: str | Dataset,
        protocol: str | Protocol,
        seed: int,
        workdir: str | Path,
    ) -> EvalResult:
        """Train ``genotype``'s network on ``dataset`` under ``protocol``; test top-1/top-5 in percent."""
        genotype = load_genotype(genotype)
        protocol = get_protocol(protocol)
        workdir = Path(workdir)
        spec = {
            "genotype": str(genotype),
            "space": space_of(genotype).name,
            "dataset": dataset if isinstance(dataset, str) else dataset.name,
            "protocol": protocol.model_dump(),
            "seed": int(seed),
        }
        finished = _read_result(workdir, spec)
        if finished is not None:
            return finished

        context = init_distributed()
        device = context.device() if context.enabled else pick_device(self.device)
        train_set, test_set = prepare_data(dataset, protocol, self.data_root, self.data_options)
        seed_everything(seed, deterministic=protocol.deterministic)
        model = build_model(genotype, protocol, train_set.num_classes, train_set.in_channels)
        if context.rank:  # ranks share the initial weights but draw their own drop-path masks
            seed_everything(seed + context.rank, deterministic=protocol.deterministic)
        resolution = protocol.image_size or train_set.image_size
        params = count_params(model)
        flops = count_flops(model, (1, train_set.in_channels, resolution, resolution))
        if context.is_main:
            atomic_write_bytes(workdir / SPEC_NAME, (json.dumps(spec, indent=2) + "\n").encode())
        outcome = train_model(
            model,
            train_set,
            test_set,
            protocol,
            seed=seed,
            workdir=workdir,
            device=device,
            context=context,
            show_progress=self.show_progress,
            run_info={"genotype": spec["genotype"], "dataset": spec["dataset"]},
        )
        result = EvalResult(
            outcome.top1, outcome.top5, params=params, flops=flops, curve=outcome.curve, cost=outcome.cost
        )
        if context.is_main:
            payload = {**result.to_dict(), "spec": spec, "speed": outcome.speed.to_dict()}
            atomic_write_bytes(workdir / RESULT_NAME, (json.dumps(payload, indent=2) + "\n").encode())
        return result


def _read_result(workdir: Path, spec: dict[str, Any]) -> EvalResult | None:
    """The stored result of a finished run of ``spec`` in ``workdir``; another run's is a ConfigError."""
    path = workdir / RESULT_NAME
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the stored result ({err})") from None
    if payload.get("spec") != spec:
        raise ConfigError(f"{path} holds the result of a different run; use a fresh workdir")
    return EvalResult.from_dict(payload)
