"""Search steps of our NB201 supernets vs NAS-Bench-201's reference ones (xautodl 1.0.0).

A step is what a first-order search does per batch: a forward/backward and SGD step of the weights
on a training batch, then a forward/backward and Adam step of the architecture parameters on a
validation batch. Ours: `NB201Supernet` in the mixed (DARTS) and sampled (GDAS) forms; the
reference: `TinyNetworkDarts` and `TinyNetworkGDAS` (affine-free, batch-statistics BatchNorms, as
NAS-Bench-201 searches them). One process, one thread, the two implementations alternating; the
table shows the best process CPU-seconds per step (steadier than wall time on a shared machine).
xautodl is a test dependency (`make setup` installs it with --no-deps).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_xautodl.py [--channels 16 --cells 5 --batch 64]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table

from nastransfer.nets.supernets import NB201Supernet
from nastransfer.spaces import nb201


class Stepper:
    """One first-order search step of a network, given how to get its logits and its parameter groups."""

    def __init__(self, logits: Callable, weights: list, arch: list) -> None:
        self.logits = logits
        self.w_opt = torch.optim.SGD(weights, lr=0.025, momentum=0.9, weight_decay=3e-4)
        self.a_opt = torch.optim.Adam(arch, lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)

    def step(self, batch: tuple[torch.Tensor, ...]) -> None:
        x, y, x_val, y_val = batch
        for optimizer, images, labels in ((self.w_opt, x, y), (self.a_opt, x_val, y_val)):
            self.w_opt.zero_grad(set_to_none=True)
            self.a_opt.zero_grad(set_to_none=True)
            F.cross_entropy(self.logits(images), labels).backward()
            optimizer.step()


def ours(form: str, args: argparse.Namespace) -> Stepper:
    torch.manual_seed(0)
    net = NB201Supernet(args.channels, args.cells, 10, form=form)
    if form == "sampled":
        net.set_tau(10.0)
    return Stepper(net, net.weights(), net.arch_parameters())


def reference(form: str, args: argparse.Namespace) -> Stepper:
    from xautodl.models.cell_searchs.search_model_darts import TinyNetworkDarts
    from xautodl.models.cell_searchs.search_model_gdas import TinyNetworkGDAS

    torch.manual_seed(0)
    kind = TinyNetworkGDAS if form == "sampled" else TinyNetworkDarts
    net = kind(args.channels, args.cells, 4, 10, list(nb201.OPS), affine=False, track_running_stats=False)
    if form == "sampled":
        net.set_tau(10.0)
    return Stepper(lambda x: net(x)[1], net.get_weights(), [net.arch_parameters])


def cpu_seconds(stepper: Stepper, batch: tuple[torch.Tensor, ...]) -> float:
    start = time.process_time()
    stepper.step(batch)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=8, help="C (NAS-Bench-201 searches with 16)")
    parser.add_argument("--cells", type=int, default=2, help="N cells per stage (NAS-Bench-201: 5)")
    parser.add_argument("--batch", type=int, default=32, help="batch size (NAS-Bench-201: 64)")
    parser.add_argument("--size", type=int, default=16, help="image size (CIFAR: 32)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    shape = (args.batch, 3, args.size, args.size)
    batch = (
        torch.randn(shape, generator=g), torch.randint(0, 10, (args.batch,), generator=g),
        torch.randn(shape, generator=g), torch.randint(0, 10, (args.batch,), generator=g),
    )
    table = Table(title=f"NB201 search step, C={args.channels} N={args.cells} batch {args.batch} "
                        f"{args.size} px (best CPU-seconds, 1 thread)")
    for column in ("supernet", "xautodl", "ours", "speed-up"):
        table.add_column(column, justify="right")
    for form, label in (("mixed", "DARTS (TinyNetworkDarts)"), ("sampled", "GDAS (TinyNetworkGDAS)")):
        pair = {"ref": reference(form, args), "ours": ours(form, args)}
        for stepper in pair.values():  # warm-up
            stepper.step(batch)
        best = {name: float("inf") for name in pair}
        for _ in range(args.repeats):
            for name, stepper in pair.items():
                best[name] = min(best[name], cpu_seconds(stepper, batch))
        ref, ours_s = best["ref"], best["ours"]
        table.add_row(label, f"{ref:.3f}", f"{ours_s:.3f}", f"{ref / ours_s:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
