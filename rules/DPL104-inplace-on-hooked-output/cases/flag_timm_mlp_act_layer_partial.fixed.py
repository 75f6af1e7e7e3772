# Mirrors timm's `Mlp` block (fc1 -> act -> drop -> fc2) configured, as timm models often are, with
# `act_layer=partial(nn.ReLU, inplace=True)`. The activation runs in place on fc1's output, which
# under Opacus 1.6.0 is a view made by the Linear's backward hook: the first forward raises
# `RuntimeError: Output 0 of BackwardHookFunction is a view and is being modified inplace`.
# Fix: `partial(nn.ReLU, inplace=False)` (same values).
from functools import partial

import torch.nn as nn


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features=None, out_features=None,
                 act_layer=partial(nn.ReLU, inplace=False), drop=0.0):
        super().__init__()
        out_features = out_features or in_features
        hidden_features = hidden_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, out_features)

    def forward(self, x):
        x = self.fc1(x)
        x = self.act(x)  # expect: DPL104
        x = self.drop1(x)
        x = self.fc2(x)
        return x


class MixerHead(nn.Module):
    def __init__(self, dim=16, num_classes=4):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, hidden_features=2 * dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = x + self.mlp(self.norm(x))
        return self.head(x.mean(dim=1))


CASE = {
    "model": "MixerHead",
    "inputs": ["float[B, 6, 16]"],
    "runtime": "crash",
    "error": "is a view and is being modified inplace",
}
