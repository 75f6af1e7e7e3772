# Mirrors a sensor-sequence regressor wrapped directly with GradSampleModule (a custom training
# loop) and told `batch_first=False`, as in older Opacus examples, while its DPLSTM was changed
# to read [batch, time, features] (batch_first=True). Opacus then takes dimension 1 as the batch
# of every hooked layer (only DPLSTM's internal gates always use dimension 0): the head's
# per-sample gradients get one row per hidden unit instead of one per sample, and
# DPOptimizer.step() fails in torch.stack. Fix: GradSampleModule(model, batch_first=True).
import torch.nn as nn
from opacus import GradSampleModule
from opacus.layers import DPLSTM


class SensorRegressor(nn.Module):
    def __init__(self, in_features=8, hidden=12):
        super().__init__()
        self.lstm = DPLSTM(in_features, hidden, batch_first=True)  # expect: DPL002
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def make_private_model():
    model = SensorRegressor()
    return GradSampleModule(model, batch_first=False)


CASE = {
    "model": "SensorRegressor",
    "inputs": ["float[B, 6, 8]"],
    "batch_first": False,
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}
