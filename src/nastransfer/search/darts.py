"""DARTS (Liu et al., ICLR 2019): the mixed supernet, first-order or second-order (unrolled) arch steps."""

from nastransfer.search.budget import Budget
from nastransfer.search.gradient import GradientSearcher
from nastransfer.search.registry import register


@register("darts")
@register("darts2", order=2)
class Darts(GradientSearcher):
    """Softmax-mixed supernet; `order=2` uses the finite-difference unrolled gradient (`darts2`)."""

    form = "mixed"
    #: 50 epochs, batch 64, a supernet of 8 cells with C=16 (Liu et al.).
    paper_budget = Budget(epochs=50, channels=16, layers=8, batch_size=64)
