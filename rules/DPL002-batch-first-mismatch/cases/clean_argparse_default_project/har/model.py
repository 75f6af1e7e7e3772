# Twin of flag_argparse_default_project: the same command-line script, but the flag is
# `--seq-first` with `action="store_false", dest="batch_first"`: by default batch_first is True,
# as make_private's. Taking a `store_false` flag's default for False would report a layer that
# agrees with the engine.
import torch.nn as nn
from opacus.layers import DPLSTM


class ActivityNet(nn.Module):
    def __init__(self, in_features=6, hidden=16, num_classes=5, batch_first=True):
        super().__init__()
        self.rnn = DPLSTM(in_features, hidden, batch_first=batch_first)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out.mean(dim=1))


CASE = {
    "model": "ActivityNet",
    "kwargs": {"hidden": 16, "batch_first": True},
    "inputs": ["float[B, 9, 6]"],
    "runtime": "ok",
}
