"""`nastransfer datasets`: a table of what is found where; unknown names exit 2."""

from nastransfer.cli.main import main


def test_datasets_table_lists_found_and_missing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("NASTRANSFER_DATA", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("fashion-mnist", "mnist5k", "digits", "cifar10", "cifar100", "imagefolder", "imagenet-"):
        assert name in out
    assert "/usr/share/datasets/fashion-mnist" in out and "found" in out
    assert "missing" in out and "cifar-10-python.tar.gz" in out


def test_datasets_single_and_unknown(capsys):
    assert main(["datasets", "digits"]) == 0
    assert "scikit-learn" in capsys.readouterr().out
    assert main(["datasets", "svhn"]) == 2
    assert "unknown dataset 'svhn'" in capsys.readouterr().err
