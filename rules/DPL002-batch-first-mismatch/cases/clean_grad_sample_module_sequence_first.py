# Mirrors a custom DP training loop that wraps its model with GradSampleModule directly: the
# model reads sequence-first [time, batch, features] data with DPGRU's default
# batch_first=False, and the wrapper is told `batch_first=False` too. Layer and engine agree:
# per-sample gradients are exact. (With batch_first=False Opacus takes dimension 1 as the batch
# of *every* hooked layer, so the head runs on the whole [T, B, hidden] sequence and the last
# step is picked afterwards: a head applied to the pooled [B, hidden] tensor would fail.)
import torch.nn as nn
from opacus import GradSampleModule
from opacus.layers import DPGRU


class ForecastGRU(nn.Module):
    def __init__(self, in_features=8, hidden=12, horizon=3):
        super().__init__()
        self.gru = DPGRU(in_features, hidden)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, series):  # [T, B, features]
        out, _ = self.gru(series)
        return self.head(out)[-1]


def build_private_model():
    model = ForecastGRU()
    return GradSampleModule(model, batch_first=False, loss_reduction="mean")


CASE = {
    "model": "ForecastGRU",
    "inputs": ["float[9, B, 8]"],
    "batch_first": False,
    "runtime": "ok",
}
