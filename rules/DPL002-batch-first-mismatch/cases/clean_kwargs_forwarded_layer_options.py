# Mirrors an encoder that forwards its recurrent-layer options with `**rnn_options`
# (batch_first, num_layers, ...), a common pattern in configurable model zoos. The value that
# reaches DPLSTM is batch_first=True, matching the engine, so per-sample gradients are exact; a
# static check cannot follow `**kwargs`, so it must stay silent rather than guess.
import torch.nn as nn
from opacus.layers import DPLSTM


class RecurrentEncoder(nn.Module):
    def __init__(self, in_features, hidden, **rnn_options):
        super().__init__()
        self.rnn = DPLSTM(in_features, hidden, **rnn_options)

    def forward(self, x):
        out, _ = self.rnn(x)
        return out[:, -1]


class ActivityRecognizer(nn.Module):
    def __init__(self, in_features=8, hidden=12, num_activities=6):
        super().__init__()
        self.encoder = RecurrentEncoder(in_features, hidden, batch_first=True, num_layers=1)
        self.head = nn.Linear(hidden, num_activities)

    def forward(self, x):  # [B, T, features]
        return self.head(self.encoder(x))


CASE = {
    "model": "ActivityRecognizer",
    "inputs": ["float[B, 10, 8]"],
    "runtime": "ok",
}
