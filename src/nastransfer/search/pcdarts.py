"""PC-DARTS (Xu et al., ICLR 2020): 1/K of the channels through the mixed op, edge normalisation."""

from __future__ import annotations

from nastransfer.errors import ConfigError
from nastransfer.search.budget import Budget
from nastransfer.search.gradient import GradientSearcher, Hyper
from nastransfer.search.registry import register

K = 4


@register("pcdarts")
class PCDarts(GradientSearcher):
    """Partial-channel supernet (K=4); weights lr 0.1 cosine to 0, arch lr 6e-4, warm-up from the budget."""

    form = "partial"
    default_hyper = Hyper(lr=0.1, lr_min=0.0, arch_lr=6e-4)
    #: DARTS's 50 epochs, 8 cells, C=16, but batch 256 and 15 weights-only warm-up epochs (Xu et al.).
    paper_budget = Budget(epochs=50, channels=16, layers=8, batch_size=256, warmup_epochs=15)

    def check(self, space: str, budget: Budget) -> None:
        super().check(space, budget)
        if budget.channels % K:
            raise ConfigError(f"{self.name}: budget channels {budget.channels} are not divisible by K={K}")
