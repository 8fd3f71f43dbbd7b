"""Published benchmark tables: look accuracies up instead of training, and search them black-box.

`get_table("nb201:cifar10")` (NAS-Bench-201 via analog-nasbench), `get_table("graph:cora")` (one
of NAS-Bench-Graph's nine datasets), `get_table("nb201-file:results.json")` (a user export),
`get_table("nb201-official:NAS-Bench-201-v1_1-096897.pth:cifar100")` (the official NAS-Bench-201 or
NATS-Bench topology files; exports and official files in `$NASTRANSFER_TABLES` are also `nb201:<dataset>`);
`TableEvaluator(name)` is a study evaluator backed by a table; the black-box searchers `rs`, `re`,
`ls` run on a table handed to them as their data. A table names its search space
(`nastransfer.spaces`; NAS-Bench-Graph's is `spaces.graph`).
"""

from nastransfer.tabular import blackbox
from nastransfer.tabular.correlation import common_accuracies, kendall_tau, tau_matrix
from nastransfer.tabular.evaluator import PROTOCOL, TableEvaluator
from nastransfer.tabular.nasbench_graph import DATASETS as GRAPH_DATASETS
from nastransfer.tabular.nb201_analog import analog_from_arch, arch_from_analog
from nastransfer.tabular.nb201_files import export_table
from nastransfer.tabular.tables import (
    TABLE_FAMILIES,
    Table,
    TableFamily,
    get_table,
    register_family,
    table_names,
)

__all__ = [
    "GRAPH_DATASETS",
    "PROTOCOL",
    "TABLE_FAMILIES",
    "Table",
    "TableFamily",
    "TableEvaluator",
    "analog_from_arch",
    "blackbox",
    "arch_from_analog",
    "common_accuracies",
    "export_table",
    "get_table",
    "kendall_tau",
    "register_family",
    "table_names",
    "tau_matrix",
]
