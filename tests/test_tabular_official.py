"""Official NAS-Bench-201 / NATS-Bench topology files: written here in their exact layouts, then read."""

import bz2
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from nastransfer.errors import DatasetError
from nastransfer.spaces import nb201
from nastransfer.tabular import TableEvaluator, get_table
from nastransfer.tabular.nb201_analog import load_nb201
from nastransfer.tabular.nb201_files import user_files

ARCHS = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_3x3~1|nor_conv_1x1~2|",
)
#: Seeds each arch was trained with: one, two and three trials, as in NAS-Bench-201 v1.1.
SEEDS = ((777,), (777, 888), (777, 888, 999))
#: Uneven, so that a mean over seeds differs from every single trial.
SEED_SHIFT = {777: 0.0, 888: 0.3, 999: 1.2}
#: Eval sets each training dataset reports, as in the benchmark.
EVAL_SETS = {
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}


def accuracy(index, dataset, eval_set, seed, epoch, epochs, offset=0.0):
    """A distinct number per (arch, dataset, set, seed); earlier epochs are 20 points lower."""
    base = 50 + 10 * index + list(EVAL_SETS).index(dataset) + 0.1 * len(eval_set) + SEED_SHIFT[seed]
    return base + offset - (0 if epoch == epochs - 1 else 20)


def trial(index, dataset, seed, epochs, offset):
    """One training's `ResultsCount` state dict: params as a numpy float, like the real files."""
    evals = {
        f"{name}@{epoch}": accuracy(index, dataset, name, seed, epoch, epochs, offset)
        for name in EVAL_SETS[dataset]
        for epoch in range(epochs)
    }
    return {
        "name": f"{dataset}-{seed}",
        "net_state_dict": None,
        "train_acc1es": {epoch: 60.0 for epoch in range(epochs)},
        "train_acc5es": None,
        "train_losses": {epoch: 1.0 for epoch in range(epochs)},
        "train_times": OrderedDict((epoch, 9.5) for epoch in range(epochs)),
        "arch_config": {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": ARCHS[index], "class_num": 10},
        "params": np.float64(0.1 * (index + 1)),
        "flop": 10.0 * (index + 1),
        "seed": seed,
        "epochs": epochs,
        "latency": [0.01 * (index + 1)] if seed == 777 else None,
        "eval_names": list(EVAL_SETS[dataset]),
        "eval_acc1es": evals,
        "eval_times": {key: 0.5 for key in evals},
        "eval_losses": {key: 1.0 for key in evals},
    }


def arch_results(index, epochs, offset=0.0):
    """One arch under one schedule: an `ArchResults` state dict."""
    seeds = SEEDS[index]
    return {
        "arch_index": index,
        "arch_str": ARCHS[index],
        "all_results": {(d, s): trial(index, d, s, epochs, offset) for d in EVAL_SETS for s in seeds},
        "dataset_seed": {d: list(seeds) for d in EVAL_SETS},
        "clear_net_done": True,
    }


def nb201_dict(offset=0.0):
    infos = {
        i: {"less": arch_results(i, 12, offset + 5), "full": arch_results(i, 200, offset)} for i in range(3)
    }
    return {"meta_archs": list(ARCHS), "arch2infos": infos, "evaluated_indexes": [0, 1, 2]}


def numpy1_legacy_save(data, path):
    """A torch-1.4-era file (legacy format, pickle protocol 2) whose numpy floats name `numpy.core`."""
    torch.save(data, path, _use_new_zipfile_serialization=False)
    raw = path.read_bytes()
    legacy = raw.replace(b"cnumpy._core.multiarray\nscalar", b"cnumpy.core.multiarray\nscalar")
    assert b"cnumpy.core.multiarray\nscalar" in legacy
    path.write_bytes(legacy)


def bz2_dump(data, path):
    with bz2.open(path, "wb") as handle:
        pickle.dump(data, handle, protocol=4)


def write_simple_folder(folder, offset=0.0):
    folder.mkdir()
    bz2_dump({"meta_archs": list(ARCHS)}, folder / "meta.pickle.pbz2")
    for i in range(3):
        bz2_dump(
            {"12": arch_results(i, 12, offset + 5), "200": arch_results(i, 200, offset)},
            folder / f"{i:06d}.pickle.pbz2",
        )
    return folder


def expected(index, dataset, eval_set, offset=0.0):
    seeds = SEEDS[index]
    return float(np.mean([accuracy(index, dataset, eval_set, s, 199, 200, offset) for s in seeds]))


def check_values(table, offset=0.0):
    """Every cell of every dataset against the 200-epoch last-epoch seed means."""
    assert len(table) == 3 and table.search_metric == "valid_accuracy"
    for i, text in enumerate(ARCHS):
        metrics = table.query(nb201.Arch.parse(text))
        assert metrics["params"] == pytest.approx(1e5 * (i + 1)) and metrics["flops"] == pytest.approx(
            1e7 * (i + 1)
        )
        assert metrics["latency_s"] == pytest.approx(0.01 * (i + 1))
        yield i, metrics


@pytest.fixture(scope="module")
def pth_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("nb201") / "NAS-Bench-201-v1_1-096897.pth"
    numpy1_legacy_save(nb201_dict(), path)
    return path


def test_nb201_pth_serves_the_three_datasets_as_the_paper_reports(pth_file):
    for i, metrics in check_values(get_table(f"nb201-official:{pth_file}:cifar10")):
        assert metrics["accuracy"] == pytest.approx(expected(i, "cifar10", "ori-test"))
        assert metrics["valid_accuracy"] == pytest.approx(expected(i, "cifar10-valid", "x-valid"))
    for dataset in ("cifar100", "ImageNet16-120"):
        for i, metrics in check_values(get_table(f"nb201-official:{pth_file}:{dataset}")):
            assert metrics["accuracy"] == pytest.approx(expected(i, dataset, "x-test"))
            assert metrics["valid_accuracy"] == pytest.approx(expected(i, dataset, "x-valid"))
    # Three seeds are averaged, not one picked: the mean differs from every single trial.
    three = get_table(f"nb201-official:{pth_file}:imagenet16-120").query(nb201.Arch.parse(ARCHS[2]))
    singles = [accuracy(2, "ImageNet16-120", "x-test", s, 199, 200) for s in SEEDS[2]]
    assert three["accuracy"] == pytest.approx(sum(singles) / 3)
    assert min(abs(three["accuracy"] - single) for single in singles) > 0.1
    result = TableEvaluator(f"nb201-official:{pth_file}:cifar100").evaluate(nb201.Arch.parse(ARCHS[0]))
    assert result.top1 == pytest.approx(expected(0, "cifar100", "x-test")) and result.params == 100000


def test_current_torch_zip_files_read_the_same(tmp_path, pth_file):
    path = tmp_path / "NAS-Bench-201-v1_0-e61699.pth"
    torch.save(nb201_dict(), path)
    assert (
        get_table(f"nb201-official:{path}:cifar100").accuracies()
        == get_table(f"nb201-official:{pth_file}:cifar100").accuracies()
    )


def test_nats_simple_folder_and_single_file_match_the_nb201_file(tmp_path, pth_file):
    folder = write_simple_folder(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    single = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    infos = {i: {"12": arch_results(i, 12, 5), "200": arch_results(i, 200)} for i in range(3)}
    bz2_dump({"meta_archs": list(ARCHS), "arch2infos": infos, "evaluated_indexes": [0, 1, 2]}, single)
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        reference = get_table(f"nb201-official:{pth_file}:{dataset}")
        for source in (folder, single):
            table = get_table(f"nb201-official:{source}:{dataset}")
            assert {k: m for k, (_, m) in table.records.items()} == {
                k: m for k, (_, m) in reference.records.items()
            }


def test_tables_folder_precedence(tmp_path, monkeypatch, pth_file):
    os.symlink(pth_file, tmp_path / pth_file.name)
    monkeypatch.setenv("NASTRANSFER_TABLES", str(tmp_path))
    assert set(user_files()) == {"cifar10", "cifar100", "imagenet16-120"}
    table = load_nb201("imagenet16-120")
    assert table.name == "nb201:imagenet16-120"
    assert table.query(nb201.Arch.parse(ARCHS[1]))["accuracy"] == pytest.approx(
        expected(1, "ImageNet16-120", "x-test")
    )
    # An official file beats the bundled analog-nasbench table on cifar10.
    cifar10 = load_nb201("cifar10")
    assert len(cifar10) == 3 and cifar10.query(nb201.Arch.parse(ARCHS[0]))["accuracy"] == pytest.approx(
        expected(0, "cifar10", "ori-test")
    )
    # A NATS folder beats the NB201 file; a user's export beats both.
    write_simple_folder(tmp_path / "NATS-tss-v1_0-3ffb9-simple", offset=1.0)
    assert load_nb201("cifar100").query(nb201.Arch.parse(ARCHS[0]))["accuracy"] == pytest.approx(
        expected(0, "cifar100", "x-test", offset=1.0)
    )
    (tmp_path / "nb201-cifar100.csv").write_text(f"arch,accuracy\n{ARCHS[0]},12.5\n")
    assert load_nb201("cifar100").query(nb201.Arch.parse(ARCHS[0])) == {"accuracy": 12.5}
    assert load_nb201("cifar10").query(nb201.Arch.parse(ARCHS[0]))["accuracy"] == pytest.approx(
        expected(0, "cifar10", "ori-test", offset=1.0)
    )


class Payload:
    """A pickle that would run code when loaded (here a harmless `os.getcwd`)."""

    def __reduce__(self):
        return (os.getcwd, ())


def one_line_error(name, match):
    with pytest.raises(DatasetError, match=match) as caught:
        get_table(name)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_bad_sources_are_one_line_errors(tmp_path, pth_file):
    folder = write_simple_folder(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    (folder / "000001.pickle.pbz2").unlink()
    one_line_error(f"nb201-official:{folder}:cifar10", "missing 000001.pickle.pbz2")

    broken = nb201_dict()
    del broken["arch2infos"][1]["full"]["all_results"][("cifar100", 888)]["eval_acc1es"]["x-test@199"]
    path = tmp_path / "broken.pth"
    torch.save(broken, path)
    message = one_line_error(f"nb201-official:{path}:cifar100", "missing 'x-test@199'")
    assert "broken.pth arch 1 cifar100 seed 888" in message
    torch.save({"meta_archs": list(ARCHS)}, path)
    one_line_error(f"nb201-official:{path}:cifar10", "broken.pth: missing 'arch2infos'")

    meta = tmp_path / "NATS-tss-v1_0-3ffb9-simple" / "meta.pickle.pbz2"
    bz2_dump({"archs": list(ARCHS)}, meta)
    one_line_error(f"nb201-official:{folder}:cifar10", "meta.pickle.pbz2: missing 'meta_archs'")

    less_only = nb201_dict()
    for infos in less_only["arch2infos"].values():
        del infos["full"]["dataset_seed"]["ImageNet16-120"]
    torch.save(less_only, path)
    one_line_error(f"nb201-official:{path}:ImageNet16-120", "no 200-epoch results on ImageNet16-120")

    one_line_error(f"nb201-official:{pth_file}:svhn", "unknown dataset 'svhn'")
    one_line_error(f"nb201-official:{pth_file}", "must read <path>:<dataset>")
    one_line_error(f"nb201-official:{tmp_path / 'absent.pth'}:cifar10", "no such file or folder")
    one_line_error(f"nb201-file:{pth_file}", f"open it as nb201-official:{pth_file}:<dataset>")
    (tmp_path / "noise.pickle.pbz2").write_bytes(b"not bz2 at all")
    one_line_error(
        f"nb201-official:{tmp_path / 'noise.pickle.pbz2'}:cifar10", "not a readable benchmark pickle"
    )


def test_pickles_carrying_code_are_refused(tmp_path):
    single = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    bz2_dump({"meta_archs": list(ARCHS), "arch2infos": Payload()}, single)
    one_line_error(f"nb201-official:{single}:cifar10", "refuses the pickled global posix.getcwd")

    folder = write_simple_folder(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    bz2_dump({"200": {"dataset_seed": Payload()}}, folder / "000002.pickle.pbz2")
    one_line_error(
        f"nb201-official:{folder}:cifar10", "000002.pickle.pbz2: refuses the pickled global posix.getcwd"
    )

    path = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    torch.save({"meta_archs": list(ARCHS), "arch2infos": Payload()}, path)
    one_line_error(f"nb201-official:{path}:cifar10", "refuses the pickled global posix.getcwd")


def _seed_dependent_costs(results):
    """The legacy flaw of some NATS-Bench cells: parameter and FLOP counts that differ between seeds."""
    for (_, seed), run in results["all_results"].items():
        run["params"] = np.float64(run["params"] + 1e-3 * (seed - 777))
        run["flop"] = run["flop"] + 1e-2 * (seed - 777)
    return results


def test_nats_costs_are_seed_888s_where_seeds_disagree_and_nb201_costs_the_mean(tmp_path):
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    bz2_dump({"meta_archs": list(ARCHS)}, folder / "meta.pickle.pbz2")
    full = [_seed_dependent_costs(arch_results(i, 200)) for i in range(3)]
    for i in range(3):
        bz2_dump({"12": arch_results(i, 12), "200": full[i]}, folder / f"{i:06d}.pickle.pbz2")
    nats = get_table(f"nb201-official:{folder}:cifar100")
    pth = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    infos = {i: {"less": arch_results(i, 12), "full": full[i]} for i in range(3)}
    torch.save({"meta_archs": list(ARCHS), "arch2infos": infos, "evaluated_indexes": [0, 1, 2]}, pth)
    nb201_table = get_table(f"nb201-official:{pth}:cifar100")
    for i, text in enumerate(ARCHS):
        arch = nb201.Arch.parse(text)
        runs = [full[i]["all_results"][("cifar100", s)] for s in SEEDS[i]]
        at_888 = next((r for r in runs if r["seed"] == 888), runs[0])  # arch 0 has one seed only
        assert nats.query(arch)["params"] == round(1e6 * at_888["params"])
        assert isinstance(nats.query(arch)["params"], int)
        assert nats.query(arch)["flops"] == pytest.approx(1e6 * at_888["flop"])
        assert nb201_table.query(arch)["params"] == round(1e6 * float(np.mean([r["params"] for r in runs])))
    missing = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    no_888 = _seed_dependent_costs(arch_results(2, 200))
    no_888["dataset_seed"] = {d: [777, 999] for d in EVAL_SETS}
    infos = {i: {"12": arch_results(i, 12), "200": no_888 if i == 2 else full[i]} for i in range(3)}
    bz2_dump({"meta_archs": list(ARCHS), "arch2infos": infos, "evaluated_indexes": [0, 1, 2]}, missing)
    with pytest.raises(DatasetError, match="differs between seeds and none is 888"):
        get_table(f"nb201-official:{missing}:cifar100")
