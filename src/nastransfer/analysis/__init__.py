"""Transfer analysis of a study's results frame: agreement between settings, per-method statistics against
the random baseline, the paper's four questions, plots, and the HTML/Markdown report. Reads only the frame
of `nastransfer.study.load` (docs/architecture.md); nothing here imports torch.
"""

from nastransfer.analysis.agreement import (
    METRICS,
    Estimate,
    agreement,
    agreement_table,
    compare_settings,
    kendall_tau_b,
    pearson_r,
    spearman_rho,
    top_k_overlap,
)
from nastransfer.analysis.frame import REQUIRED_COLUMNS, Setting, cell_scores, check_frame
from nastransfer.analysis.methods import (
    method_stats,
    paired_test_vs_random,
    percentile_in,
    rank_table,
    ranking_agreement,
    relative_improvement,
    sign_flip_test,
    versus_random,
)
from nastransfer.analysis.questions import Section, answer_questions
from nastransfer.analysis.report import build_report_from_frame, check_report_dir

__all__ = [
    "METRICS",
    "REQUIRED_COLUMNS",
    "Estimate",
    "Section",
    "Setting",
    "agreement",
    "agreement_table",
    "answer_questions",
    "build_report_from_frame",
    "cell_scores",
    "check_frame",
    "check_report_dir",
    "compare_settings",
    "kendall_tau_b",
    "method_stats",
    "paired_test_vs_random",
    "pearson_r",
    "percentile_in",
    "rank_table",
    "ranking_agreement",
    "relative_improvement",
    "sign_flip_test",
    "spearman_rho",
    "top_k_overlap",
    "versus_random",
]
