"""Checkpoints are atomic, checksummed and refuse code; RNG capture restores every generator."""

import pickle
import random
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from nastransfer.errors import CheckpointError
from nastransfer.runtime import (
    CheckpointDir,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)


def test_round_trip_keeps_tensors_and_plain_values(tmp_path):
    state = {"w": torch.arange(6.0).reshape(2, 3), "epoch": 3, "curve": [{"top1": 91.5}], "name": "x"}
    save_checkpoint(tmp_path / "c.pt", state)
    loaded = load_checkpoint(tmp_path / "c.pt")
    assert torch.equal(loaded["w"], state["w"])
    assert loaded["epoch"] == 3 and loaded["curve"] == [{"top1": 91.5}] and loaded["name"] == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"], "no temporary file left behind"


def test_truncated_checkpoint_is_detected(tmp_path):
    save_checkpoint(tmp_path / "c.pt", {"w": torch.ones(100)})
    blob = (tmp_path / "c.pt").read_bytes()
    (tmp_path / "c.pt").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(tmp_path / "c.pt")


def test_flipped_byte_is_detected(tmp_path):
    save_checkpoint(tmp_path / "c.pt", {"w": torch.ones(100)})
    blob = bytearray((tmp_path / "c.pt").read_bytes())
    blob[len(blob) // 3] ^= 0xFF
    (tmp_path / "c.pt").write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(tmp_path / "c.pt")


class _Payload:
    """A class whose unpickling would run code: weights_only loading must refuse it."""

    def __reduce__(self):
        return (print, ("code ran",))


def test_checkpoint_carrying_a_pickled_callable_is_refused(tmp_path):
    save_checkpoint(tmp_path / "c.pt", {"w": torch.ones(2), "evil": _Payload()})
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(tmp_path / "c.pt")


def test_plain_pickle_is_not_a_checkpoint(tmp_path):
    (tmp_path / "c.pt").write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "c.pt")


def test_checkpoint_dir_keeps_newest_and_falls_back_past_a_corrupt_one(tmp_path):
    ckpts = CheckpointDir(tmp_path, keep=2)
    for step in range(4):
        ckpts.save(step, {"step": step})
    assert ckpts.steps() == [2, 3]
    ckpts.path(3).write_bytes(b"garbage")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        step, state = ckpts.load_latest()
    assert (step, state["step"]) == (2, 2)
    assert any("corrupt" in str(w.message) or "truncated" in str(w.message) for w in caught)


def test_empty_checkpoint_dir_loads_nothing(tmp_path):
    assert CheckpointDir(tmp_path / "missing").load_latest() is None


def test_rng_state_survives_a_checkpoint(tmp_path):
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    save_checkpoint(tmp_path / "rng.pt", {"rng": capture_rng()})
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(99)
    np.random.seed(99)
    torch.manual_seed(99)
    restore_rng(load_checkpoint(tmp_path / "rng.pt")["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_cost_meter_reports_time_and_memory():
    """In a fresh process: in a long test session the allocator may reuse pages already resident,
    and a new block then adds nothing to the RSS the meter samples."""
    code = (
        "import torch\n"
        "from nastransfer.runtime import CostMeter\n"
        "with CostMeter('cpu') as meter:\n"
        "    block = torch.ones(4096, 4096)  # 64 MiB held while the sampler runs\n"
        "    torch.mm(block[:512], block[:, :512])\n"
        "c = meter.cost\n"
        "print(c.wall_s, c.device_s, c.peak_mem_mb, c.device)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    wall_s, device_s, peak_mem_mb, device = out.split(maxsplit=3)
    assert float(wall_s) > 0 and float(device_s) > 0 and device.startswith("cpu")
    assert float(peak_mem_mb) >= 32


def test_one_timing_cache_file_holds_every_measurement_and_keeps_what_others_wrote(tmp_path, monkeypatch):
    """The speed choices' timings and the cost plan's share `speed.json`: a value is merged into the
    file as it is when written (another process may have written since it was read), and a damaged
    file only costs new measurements."""
    import json

    from nastransfer.runtime.speed_cache import TimingCache, cached_timing, shape_key

    monkeypatch.setenv("NASTRANSFER_CACHE", str(tmp_path))
    plan = TimingCache()  # read before the other writer below
    assert cached_timing("net", ("eager_s",), lambda names: dict.fromkeys(names, 1.0)) == {"eager_s": 1.0}
    key = shape_key("cpu", {"b": 1, "a": [2]})
    assert key == 'cpu|{"a":[2],"b":1}'
    calls: list[int] = []
    assert plan.get(key, lambda: calls.append(1) or {"step_s": 0.5}) == {"step_s": 0.5}
    assert plan.get(key, lambda: calls.append(1) or {}) == {"step_s": 0.5} and calls == [1]
    on_disk = json.loads((tmp_path / "speed.json").read_text())
    assert on_disk == {"net": {"eager_s": 1.0}, key: {"step_s": 0.5}}
    assert TimingCache().find(key) == {"step_s": 0.5}
    (tmp_path / "speed.json").write_text("{ damaged")
    assert TimingCache().find(key) is None
