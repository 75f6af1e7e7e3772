# Mirrors a sequence tagger ported from a time-major codebase: the batches are [batch, steps,
# features], forward transposes them to [steps, batch, features] for a DPLSTM with its default
# batch_first=False, and averages the outputs over time (`out.mean(0)`). DPLSTM runs one step at
# a time on [batch, features] slices, so Opacus' batch-first hooks see the batch first and the
# per-sample gradients are exact: the layer's setting matches the data it gets. Setting
# batch_first=True here would make the layer take the steps as the batch.
import torch.nn as nn
from opacus.layers import DPLSTM


class TimeMajorTagger(nn.Module):
    def __init__(self, features=6, hidden=8, classes=3):
        super().__init__()
        self.lstm = DPLSTM(features, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        x = x.transpose(0, 1)  # [steps, batch, features]
        out, _ = self.lstm(x)
        return self.head(out.mean(0))


CASE = {
    "model": "TimeMajorTagger",
    "inputs": ["float[B, 5, 6]"],
    "runtime": "ok",
}
