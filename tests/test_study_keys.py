"""Task keys and the resolved study a run directory keeps are those of before the config split.

A run directory made by an earlier version resumes only if every task key and the resolved
config's identity are byte-identical; these digests were recorded from the shipped configs
before `study.config` was split into schema, validation and resolution.
"""

import hashlib
from pathlib import Path

import pytest

from nastransfer.study import plan_study, resolve
from nastransfer.study.config.validation import load_config
from nastransfer.study.runner import identity, resolved_config

CONFIGS = Path(__file__).parent.parent / "configs"

#: name: (tasks, sha256 of the task keys one a line, sha256 of the resolved config's identity).
#: A refactor must leave these alone; a deliberate change of a config re-records its row.
RECORDED = {
    "cifar-to-imagenet.toml": (
        216,
        "728ba66d59eb8b6fbe354ec673cefbbe7ebcdc172b6623ce7c5838a69bb5ed80",
        "def8390697bed60ee2253054d062c0d2ac2317c5a2a8114675b639a534e28456",
    ),
    "fmnist-study.toml": (  # re-recorded after its deliberate resize to a few CPU-hours
        216,
        "cbf0b075a0b047aa8b0c58f4053988ddf2fa7e9c4d2f3c3bd38ec83fdb08a8d3",
        "7ecccce54879230efb41214c6b7e87501ba40b15f7edebc2c34f7fd7616e476c",
    ),
    "graph-proxies.toml": (
        64,
        "dbb3971801b6b3639d1889c340c5bc1ea0c4a081646eebeaceeca2ed42b94bf3",
        "82453560927c71f2b027a5e1b60ff81865bc11f3e6187c935ef68a0abdc77e0e",
    ),
    "graph-transfer.toml": (
        909,
        "2bdbde5c2ba2a766c6055481b8bbf4bdaa867dca9cc08a39560c1ade5409f8d2",
        "3a1d7dab79064a8ca69c8e94107d95c1f04ac2b8895e245a08b37eb5076b3ec1",
    ),
    "imagenet22k.toml": (
        116,
        "27e96e3a3d00c3f3510c27ddcf25f23d70a6965fe5e9432f294bd1571cfe51bd",
        "80496186edd788a8faf892f8e97fb9d3b5deda8acfb0ddcfd19724168a4c7064",
    ),
    "nb201-proxies.toml": (  # re-recorded after adding the new predictors, votes and learned (174 keys kept)
        199,
        "56a653fb1ff48d83364e9fa46774cc0860fcb74f4c3807dcc72251da9143b259",
        "4f10eb69255c09c693de275f0cbd513f2be385e272e3a9873a9193e411cfdd82",
    ),
    "nb201-transfer.toml": (  # re-recorded after going from 2 to 5 search seeds (its 80 keys kept)
        152,
        "7c4d83a732061383e661055249293575bb726a5c6d93871948c0fbc9ebf0ebbd",
        "3be253345e1dee63631ddb51c12c6b29597ae6408d29e712f5cd4470b784c2e7",
    ),
    "quickstart.toml": (
        34,
        "96ae7ba66afcaad66033bc3038f831aaf410b0cbb885a5459da4830b7b1eb550",
        "7c717604523caad31a01d0585f5c70941b680fab13d5d331bd52dbf81e2f28b3",
    ),
}


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_task_keys_and_resolved_identity_are_unchanged(name):
    study = resolve(load_config(CONFIGS / name, check_references=False))
    keys = [t.key for t in plan_study(study)]
    resolved = identity({**resolved_config(study), "tasks": len(keys)})
    tasks, keys_sha, resolved_sha = RECORDED[name]
    assert len(keys) == tasks
    assert hashlib.sha256("\n".join(keys).encode()).hexdigest() == keys_sha
    assert hashlib.sha256(resolved.encode()).hexdigest() == resolved_sha
