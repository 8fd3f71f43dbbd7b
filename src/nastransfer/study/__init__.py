"""Studies: the TOML config, the planner, task identity, the SQLite store, local and Ray executors.

`load_study(path)` validates and resolves a study; `run_study(study, run_dir)` runs or resumes it;
`load(run_dir)` gives the results frame the analysis reads; `export(run_dir, file)` writes it out.
"""

from nastransfer.study.config.resolved import ResolvedStudy, resolve
from nastransfer.study.config.schema import StudyConfig
from nastransfer.study.config.validation import load_config, load_study, parse_config, parse_study
from nastransfer.study.driver.driver import RunSummary, Snapshot, run_study, study_name
from nastransfer.study.driver.frame import COLUMNS, export, load, load_frames
from nastransfer.study.driver.planner import plan_study
from nastransfer.study.driver.store import SCHEMA_VERSION, Store
from nastransfer.study.driver.tasks import FORMAT_VERSION, Task, evaluation_key

__all__ = [
    "COLUMNS",
    "FORMAT_VERSION",
    "SCHEMA_VERSION",
    "ResolvedStudy",
    "RunSummary",
    "Snapshot",
    "Store",
    "StudyConfig",
    "Task",
    "evaluation_key",
    "export",
    "load",
    "load_frames",
    "load_config",
    "load_study",
    "parse_config",
    "parse_study",
    "plan_study",
    "resolve",
    "run_study",
    "study_name",
]
