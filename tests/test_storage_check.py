"""The per-node storage probe, run here: the run directory's token and every dataset a study reads."""

from __future__ import annotations

from dataclasses import replace

from nastransfer.study import load_study
from nastransfer.study.config.storage_check import datasets_read, look, token_in
from nastransfer.study.driver.run_dir import RunDir


def test_a_study_reads_its_sources_targets_and_the_datasets_its_proxies_view(tmp_path, tiny_study):
    path = tmp_path / "study.toml"
    path.write_text(tiny_study("probe"))  # digits, a proxy of mnist5k, and mnist5k
    assert datasets_read(load_study(path)) == (("digits", None), ("mnist5k", None))


def test_the_probe_sees_the_token_and_the_datasets(tmp_path):
    with token_in(tmp_path, (("digits", None), ("mnist5k", None))) as needs:
        assert RunDir(tmp_path).token.read_text() == needs.token
        assert look(needs) is None
    assert not RunDir(tmp_path).token.exists()


def test_the_probe_names_what_a_node_does_not_see(tmp_path):
    with token_in(tmp_path, ()) as needs:
        elsewhere = replace(needs, run_dir=str(tmp_path / "nowhere"))
        assert look(elsewhere).startswith(f"cannot see the run directory {tmp_path / 'nowhere'}")
        assert "sees another folder" in look(replace(needs, token="another token"))
        missing = replace(needs, datasets=(("mnist", str(tmp_path / "no-data")),))
        assert look(missing).startswith(f"dataset 'mnist' not found: looked in {tmp_path / 'no-data'}")
