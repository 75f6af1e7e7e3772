# Mirrors an activity-recognition project configured from the command line: `train.py` builds
# `ActivityNet(hidden=args.hidden, batch_first=args.batch_first)` where `--batch-first` is a
# `store_true` flag, so by default (no flag on the command line) the DPLSTM is sequence-first
# while make_private keeps its default batch_first=True and the loader yields [batch, time,
# features]. Opacus then takes dimension 0 as the batch while the layer reads it as time, and
# the step fails in torch.stack. The clean twin's flag is `--seq-first` (`store_false` into
# batch_first, default True).
import torch.nn as nn
from opacus.layers import DPLSTM


class ActivityNet(nn.Module):
    def __init__(self, in_features=6, hidden=16, num_classes=5, batch_first=True):
        super().__init__()
        self.rnn = DPLSTM(in_features, hidden, batch_first=batch_first)  # expect: DPL002
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out.mean(dim=1))


CASE = {
    "model": "ActivityNet",
    "kwargs": {"hidden": 16, "batch_first": False},
    "inputs": ["float[B, 9, 6]"],
    "runtime": "crash",
    "error": "stack",
}
