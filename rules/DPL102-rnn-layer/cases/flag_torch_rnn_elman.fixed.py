# Mirrors a plain Elman RNN (nn.RNN, tanh) over sensor sequences. Opacus has no ModuleValidator
# entry for nn.RNN, so make_private accepts it, but its per-sample gradients go through the
# generic functorch fallback, which cannot run the fused RNN kernel per sample: the first
# backward pass fails. Fix: opacus.layers.DPRNN with the same arguments.
import torch.nn as nn
from opacus.layers import DPRNN


class SensorRNN(nn.Module):
    def __init__(self, in_features=8, hidden=12, num_classes=3):
        super().__init__()
        self.rnn = DPRNN(in_features, hidden, batch_first=True)  # expect: DPL102
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


CASE = {
    "model": "SensorRNN",
    "inputs": ["float[B, 6, 8]"],
    "runtime": "crash",
    "error": "RuntimeError",
}
