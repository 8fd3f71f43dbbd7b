"""Final training of cells on targets: named protocols, the training loop, `TrainEvaluator`."""

from nastransfer.evaluation import EvalResult
from nastransfer.train.distributed import DistContext, init_distributed, shutdown_distributed
from nastransfer.train.evaluator import TrainEvaluator, build_model, load_genotype, prepare_data
from nastransfer.train.loop import TrainOutcome, make_loaders, train_model
from nastransfer.train.protocols import PROTOCOLS, Protocol, get_protocol, parse_overrides, protocols
from nastransfer.train.trainer import EpochStats, Trainer

__all__ = [
    "PROTOCOLS",
    "DistContext",
    "EpochStats",
    "EvalResult",
    "Protocol",
    "TrainEvaluator",
    "TrainOutcome",
    "Trainer",
    "build_model",
    "get_protocol",
    "init_distributed",
    "load_genotype",
    "make_loaders",
    "parse_overrides",
    "prepare_data",
    "protocols",
    "shutdown_distributed",
    "train_model",
]
