"""Shared test set-up: one torch thread per test process, so parallel suites do not oversubscribe."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
