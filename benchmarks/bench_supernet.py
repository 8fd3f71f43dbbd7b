"""Seconds per search step and activation memory of each supernet form, beside the plain DARTS design.

The plain reference (`plain_forward`) is the original DARTS `MixedOp` computation on the same
modules and weights: every op of every edge runs (each with its own ReLU), `none` multiplies
zeros, the weighted sum is a Python `sum`, tensors are NCHW, and its architecture step
back-propagates into the weights too (DARTS's `loss.backward()` fills every `.grad`).

Times are process CPU-seconds (minimum of `--repeats`), steadier than wall time on a shared
machine; memory is the bytes of distinct storages autograd saves for backward in one training
forward (deterministic; on the CPU there is no allocator peak counter to read).

    OMP_NUM_THREADS=1 python benchmarks/bench_supernet.py [--channels 8 --layers 5 --batch 32 --size 28]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from nastransfer.nets.supernets import DartsSupernet
from nastransfer.nets.supernets.darts import SLICES, SOURCES


def plain_edge(edge, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """DARTS's MixedOp: sum over all ops of weight x op(x), `none` included as zeros."""
    s = edge.stride
    return sum(
        w * (x[:, :, ::s, ::s].mul(0.0) if name == "none" else edge.ops[name](x))
        for w, name in zip(weights, edge.op_names, strict=True)
    )


def plain_forward(net: DartsSupernet, x: torch.Tensor) -> torch.Tensor:
    """The plain DARTS search network's logits, computed with `net`'s modules and weights."""
    weights = {kind: F.softmax(net.arch.alphas[kind], dim=-1) for kind in net.cell_types}
    s0 = s1 = net.stem(x)
    for cell in net.cells:
        kind = "reduce" if cell.reduction else "normal"
        states = [cell.preprocess0(s0), cell.preprocess1(s1)]
        for start, stop in SLICES:
            states.append(
                sum(
                    plain_edge(cell.edges[e], states[SOURCES[e]], weights[kind][e])
                    for e in range(start, stop)
                )
            )
        s0, s1 = s1, torch.cat(states[2:], dim=1)
    return net.classifier(net.global_pooling(s1).flatten(1))


def saved_tensor_bytes(loss_fn: Callable[[], torch.Tensor]) -> int:
    """Bytes of the distinct storages autograd keeps for backward while `loss_fn` runs."""
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss_fn()
    return sum(storages.values())


def _cpu_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


class Variant:
    """One row of the table: a network and how its forward and steps run."""

    def __init__(self, name: str, net: DartsSupernet, plain: bool, channels_last: bool) -> None:
        self.name, self.net, self.plain = name, net.use_channels_last(channels_last), plain
        self.weight_opt = torch.optim.SGD(net.weights(), 0.025, momentum=0.9, weight_decay=3e-4)
        self.arch_opt = torch.optim.Adam(net.arch_parameters(), 3e-4, betas=(0.5, 0.999), weight_decay=1e-3)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        if self.plain:
            fmt = torch.channels_last if self.net.channels_last else torch.contiguous_format
            return plain_forward(self.net, x.contiguous(memory_format=fmt))
        return self.net(x)

    def _frozen(self, params: list[torch.nn.Parameter], frozen: bool) -> None:
        for p in params:
            p.requires_grad_(not frozen)

    def weight_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self._frozen(self.net.arch_parameters(), not self.plain)
        self.weight_opt.zero_grad(set_to_none=True)
        F.cross_entropy(self.logits(x), y).backward()
        torch.nn.utils.clip_grad_norm_(self.net.weights(), 5.0)
        self.weight_opt.step()
        self._frozen(self.net.arch_parameters(), False)

    def arch_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self._frozen(self.net.weights(), not self.plain)
        self.arch_opt.zero_grad(set_to_none=True)
        self.weight_opt.zero_grad(set_to_none=True)
        F.cross_entropy(self.logits(x), y).backward()
        self.arch_opt.step()
        self._frozen(self.net.weights(), False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(args.batch, 1, args.size, args.size)
    y = torch.randint(0, 10, (args.batch,))

    def net(form: str) -> DartsSupernet:
        torch.manual_seed(0)
        return DartsSupernet(args.channels, args.layers, 10, in_channels=1, form=form, channels_last=False)

    variants = [
        Variant("plain DARTS (reference)", net("mixed"), plain=True, channels_last=False),
        Variant("plain DARTS + channels-last", net("mixed"), plain=True, channels_last=True),
        Variant("mixed, NCHW", net("mixed"), plain=False, channels_last=False),
        Variant("mixed (DARTS)", net("mixed"), plain=False, channels_last=True),
        Variant("partial K=4 (PC-DARTS)", net("partial"), plain=False, channels_last=True),
        Variant("sampled (GDAS)", net("sampled"), plain=False, channels_last=True),
    ]
    rows = []
    for v in variants:
        v.net.train()
        forward = _cpu_seconds(lambda v=v: v.logits(x), args.repeats)
        fwd_bwd = _cpu_seconds(lambda v=v: F.cross_entropy(v.logits(x), y).backward(), args.repeats)
        weight = _cpu_seconds(lambda v=v: v.weight_step(x, y), args.repeats)
        arch = _cpu_seconds(lambda v=v: v.arch_step(x, y), args.repeats)
        saved = saved_tensor_bytes(lambda v=v: F.cross_entropy(v.logits(x), y)) / 2**20
        rows.append((v.name, forward, fwd_bwd - forward, weight, arch, weight + arch, saved))
    base = rows[0]
    print(
        f"\nDARTS supernet, C={args.channels}, {args.layers} cells, batch {args.batch}, "
        f"1x{args.size}x{args.size}, "
        f"{torch.get_num_threads()} thread(s); CPU-seconds (min of {args.repeats}), ratios vs plain\n"
    )
    header = (
        "form",
        "forward s",
        "backward s",
        "weight step s",
        "arch step s",
        "search step s",
        "x plain",
        "saved MB",
        "x plain",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, fwd, bwd, weight, arch, step, saved in rows:
        print(
            f"| {name} | {fwd:.3f} | {bwd:.3f} | {weight:.3f} | {arch:.3f} | {step:.3f} | "
            f"{base[5] / step:.2f} | {saved:.1f} | {saved / base[6]:.2f} |"
        )


if __name__ == "__main__":
    main()
