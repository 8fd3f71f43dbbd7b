"""Speed plans: precision from the protocol and device alone, compile only where a (cached) measurement
says it pays; results record the plan."""

import json

import pytest
import torch
from torch import nn

from nastransfer.nets import compiling
from nastransfer.runtime import CheckpointDir, speed_cache
from nastransfer.train import TrainEvaluator, get_protocol, speed
from nastransfer.train.speed import SpeedPlan, fixed_plan, plan_speed, step_timing

CPU = torch.device("cpu")
LONG = speed.MEASURE_MIN_STEPS


def protocol(**overrides):
    return get_protocol("cpu-mini", **overrides)


def tiny_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3))


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NASTRANSFER_CACHE", str(tmp_path / "cache"))


def timings(monkeypatch, fp32_s, bf16_s):
    monkeypatch.setattr(speed, "step_timing", lambda *a, **k: {"fp32_s": fp32_s, "bf16_s": bf16_s})


def test_fixed_plans_follow_explicit_settings():
    assert fixed_plan(protocol(), CPU) == SpeedPlan("off", False)
    assert fixed_plan(protocol(), torch.device("cuda")) == SpeedPlan("bf16", False)
    assert fixed_plan(protocol(amp="fp16", compile=True), CPU) == SpeedPlan("fp16", True)
    assert SpeedPlan("bf16").autocast_dtype is torch.bfloat16 and SpeedPlan().autocast_dtype is None


def test_short_trainings_do_not_measure(monkeypatch):
    monkeypatch.setattr(speed, "step_timing", lambda *a, **k: pytest.fail("measured a short training"))
    assert plan_speed(tiny_net(), protocol(), CPU, (8, 1, 8, 8), LONG - 1) == SpeedPlan("off", False)


@pytest.mark.parametrize("bf16_s", [0.05, 0.50])
def test_cpu_precision_never_rests_on_a_timing(monkeypatch, bf16_s):
    """The same seed must give the same metrics whatever a timing said: bf16 twice as fast or five
    times slower, `amp="auto"` on the CPU trains in fp32, and bf16 steps are not even timed."""
    seen = []

    def fake(model, device, shape, with_bf16):
        seen.append(with_bf16)
        return {"fp32_s": 0.10, "bf16_s": bf16_s} if with_bf16 else {"fp32_s": 0.10}

    monkeypatch.setattr(speed, "step_timing", fake)
    assert plan_speed(tiny_net(), protocol(), CPU, (8, 1, 8, 8), LONG) == SpeedPlan("off", False)
    assert plan_speed(tiny_net(), protocol(amp="bf16"), CPU, (8, 1, 8, 8), LONG).amp == "bf16"
    assert seen == [False, True]


def test_nothing_is_timed_when_compile_is_not_auto(monkeypatch):
    monkeypatch.setattr(speed, "step_timing", lambda *a, **k: pytest.fail("timed a fixed plan"))
    fixed = protocol(compile=False)
    assert plan_speed(tiny_net(), fixed, CPU, (8, 1, 8, 8), 10**9) == SpeedPlan("off", False)


def compile_measured(monkeypatch, compile_s, compiled_s):
    """Inject a compile measurement; returns the list of calls (a compile is measured only when asked)."""
    calls = []

    def fake(model, device, shape, amp):
        calls.append(amp)
        return {"compile_s": compile_s, "compiled_s": compiled_s}

    monkeypatch.setattr(speed, "compile_timing", fake)
    return calls


def test_repay_steps_is_compile_time_over_the_time_each_step_saves():
    assert compiling.repay_steps(0.10, {"compile_s": 60.0, "compiled_s": 0.04}) == pytest.approx(1000)
    assert compiling.repay_steps(0.10, {"compile_s": 60.0, "compiled_s": 0.10}) == float("inf")
    assert compiling.repay_steps(0.10, {"compile_s": 1.0, "compiled_s": 0.20}) == float("inf")


def test_compile_is_measured_only_when_the_prior_says_it_may_repay(monkeypatch):
    timings(monkeypatch, fp32_s=0.1, bf16_s=0.2)
    calls = compile_measured(monkeypatch, compile_s=1.0, compiled_s=0.01)
    cost = compiling.COMPILE_COST_S["cpu"]
    prior_steps = int(cost / (0.1 * (1 - 1 / compiling.COMPILE_SPEEDUP))) + 1
    assert not plan_speed(tiny_net(), protocol(), CPU, (8, 1, 8, 8), prior_steps - 10).compile
    assert calls == []
    assert plan_speed(tiny_net(), protocol(), CPU, (8, 1, 8, 8), prior_steps).compile
    assert calls == ["off"]
    assert not plan_speed(tiny_net(), protocol(compile=False), CPU, (8, 1, 8, 8), 10**9).compile
    assert calls == ["off"]


def test_compile_when_the_measured_repay_steps_are_fewer_than_the_training(monkeypatch):
    timings(monkeypatch, fp32_s=0.1, bf16_s=0.05)
    steps = 10**6  # long enough for the prior; the measurement decides
    compile_measured(monkeypatch, compile_s=4000.0, compiled_s=0.045)  # repays after 800,000 bf16 steps
    bf16 = protocol(amp="bf16")
    assert plan_speed(tiny_net(), bf16, CPU, (8, 1, 8, 8), steps) == SpeedPlan("bf16", True)
    compile_measured(monkeypatch, compile_s=6000.0, compiled_s=0.045)  # after 1,200,000 steps
    assert plan_speed(tiny_net(), bf16, CPU, (8, 1, 8, 8), steps) == SpeedPlan("bf16", False)
    calls = compile_measured(monkeypatch, compile_s=1.0, compiled_s=0.06)  # compiled is slower
    assert plan_speed(tiny_net(), bf16, CPU, (8, 1, 8, 8), steps) == SpeedPlan("bf16", False)
    assert calls == ["bf16"]


def test_cuda_plans_time_the_bf16_steps_they_would_compile(monkeypatch):
    seen = {}

    def fake(model, device, shape, with_bf16):
        seen["with_bf16"] = with_bf16
        return {"fp32_s": 0.1, "bf16_s": 0.05} if with_bf16 else {"fp32_s": 0.1}

    monkeypatch.setattr(speed, "step_timing", fake)
    calls = compile_measured(monkeypatch, compile_s=10.0, compiled_s=0.04)
    plan = plan_speed(tiny_net(), protocol(), torch.device("cuda"), (8, 1, 8, 8), 10**6)
    assert plan == SpeedPlan("bf16", True) and seen == {"with_bf16": True} and calls == ["bf16"]


def test_a_compile_measurement_is_cached_per_precision(monkeypatch):
    measured = []

    def fake_times(model, device, shape, dtype, compiled=False):
        assert compiled
        measured.append(dtype)
        return [5.0, 0.5] + [0.2, 0.1, 0.3, 0.1, 0.2][: speed_cache.TIMED_STEPS]

    monkeypatch.setattr(speed_cache, "WARMUP_STEPS", 2)
    monkeypatch.setattr(speed, "step_times", fake_times)
    first = speed.compile_timing(tiny_net(), CPU, (8, 1, 8, 8), "off")
    assert first == {"compile_s": pytest.approx(5.3), "compiled_s": 0.1}
    assert speed.compile_timing(tiny_net(), CPU, (8, 1, 8, 8), "off") == first
    assert measured == [None]
    speed.compile_timing(tiny_net(), CPU, (8, 1, 8, 8), "bf16")
    assert measured == [None, torch.bfloat16]
    entry = next(iter(json.loads(speed_cache.cache_path().read_text()).values()))
    assert set(entry) == {"compile_off_s", "compiled_off_s", "compile_bf16_s", "compiled_bf16_s"}


def test_a_measurement_is_cached_and_leaves_model_and_rng_alone(monkeypatch):
    net = tiny_net()
    weights = {k: v.clone() for k, v in net.state_dict().items()}
    rng = torch.get_rng_state()
    first = step_timing(net, CPU, (8, 1, 8, 8), with_bf16=True)
    assert set(first) == {"fp32_s", "bf16_s"} and all(v > 0 for v in first.values())
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, weights[k]) for k, v in net.state_dict().items())
    monkeypatch.setattr(speed, "seconds_per_step", lambda *a: pytest.fail("measured twice"))
    assert step_timing(tiny_net(), CPU, (8, 1, 8, 8), with_bf16=True) == first
    assert len(json.loads(speed_cache.cache_path().read_text())) == 1


def test_a_training_records_its_plan_and_a_resume_keeps_it(tmp_path, monkeypatch):
    timings(monkeypatch, fp32_s=0.10, bf16_s=0.05)
    monkeypatch.setattr(speed, "MEASURE_MIN_STEPS", 1)
    settings = {"epochs": 2, "batch_size": 32, "channels": 4, "layers": 3, "data_fraction": 0.1,
                "crop_padding": 0, "channels_last": False, "amp": "bf16"}
    evaluator = TrainEvaluator(show_progress=False)
    evaluator.evaluate("DARTS_V2", "digits", protocol(**settings), 0, tmp_path)
    assert json.loads((tmp_path / "result.json").read_text())["speed"] == {"amp": "bf16", "compile": False}
    # Resume after epoch 1: the plan stored in the checkpoint is used, not made again.
    (tmp_path / "result.json").unlink()
    CheckpointDir(tmp_path / "checkpoints").path(2).unlink()
    replanned = lambda *a, **k: pytest.fail("a resume planned again")  # noqa: E731
    monkeypatch.setattr("nastransfer.train.loop.plan_speed", replanned)
    evaluator.evaluate("DARTS_V2", "digits", protocol(**settings), 0, tmp_path)
    assert json.loads((tmp_path / "result.json").read_text())["speed"]["amp"] == "bf16"
