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
from nastransfer.study.driver.driver import identity, resolved_config

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
    "fmnist-noise.toml": (
        50,
        "f137db4033d5f24b2013ecea0dd7646cb1223a9f8ebba3640a69deb830e932d1",
        "5c7865897fc332cbd0268cab7563e0c1104d539d1c33a253cc867c52175704a9",
    ),
    "fmnist-noise-6ep.toml": (
        30,
        "ff5daf032b65e7cf08204811b78790d7557e96d1713d868a0972457ed0ac6603",
        "26c4ee95112206ae9d0d924c5bc6cd634889aeb85e7fe54a77471cfabade369d",
    ),
    "nb201-findings.toml": (
        655,
        "6594c7e2a669e018da1aea89c380763e339c8d86f83a9473cc079177ca13e566",
        "2c08fd6f89b6376723217073a4f7988b92ae206fef069c06a37ed52c1c754a40",
    ),
    "nb201-fmnist-noise.toml": (  # re-recorded after adding a target whose lr moves every step
        140,
        "c491dd533b80ac683dc137dc9c13b26bd7bf3ddafe31a697240a2293b64680f7",
        "28a984114bb65aeceb2fdaaab7c1c2e3f0f4f75b9bc2ddd71a8068158d1fd61b",
    ),
    "nb201-fmnist-noise-28px.toml": (
        60,
        "f6245351e0d09b4e3baa1a9397141010f04731a5930aa25f033b6cb5f557c869",
        "cbc91725e81714d631bcf59330c08023a437bdc8ea0bf985c8eca7b94f911e5f",
    ),
    "nb201-fmnist-noise-long.toml": (
        60,
        "ef3578ef6759fec2b0e07045789a4e672a43715f0d7a2769fa320d0acf081836",
        "fc2540171f7e88cc0fe584f5ae2ec791dc07013292a4e159dbf3dc81047754f6",
    ),
    "nb201-fmnist-protocols.toml": (  # re-recorded after its trainings moved the lr every step
        50,
        "c57785db9ac4d4d823b048898c9b24f49e19c7977826227d1a302c68dd52d5b3",
        "ac1e405b412c6fc6b273fab89ebee4bab751c95e2280c8b641a777969dd3e23b",
    ),
    "nb201-fmnist-study.toml": (  # re-recorded after its trainings moved the lr every step
        675,
        "034aa9934254944b56cc4dce0ae6bcaff6e1d09aa5e4fe96752c0d3cea70ef39",
        "704a9d577b1c4083dbe88f3b81176cb4c273d0bea83ee568f5274f030713f903",
    ),
    "nb201-zc.toml": (
        440,
        "676e3506dbffa926eeaf263f468b445a6c2a02d792706b066f79f6f11c8533aa",
        "2111d58a9fc97e82acd4f1005b926c48a0cf566149cc4fa5c08c97da0739ff0e",
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
