# Mirrors the Opacus port of a two-layer Elman RNN: DPRNN(num_layers=2, batch_first=True) over
# sensor sequences. make_private accepts it and per-sample gradients are exact.
import torch.nn as nn
from opacus.layers import DPRNN


class SensorRNN(nn.Module):
    def __init__(self, in_features=8, hidden=12, num_classes=3):
        super().__init__()
        self.rnn = DPRNN(in_features, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


CASE = {
    "model": "SensorRNN",
    "inputs": ["float[B, 6, 8]"],
    "runtime": "ok",
}
