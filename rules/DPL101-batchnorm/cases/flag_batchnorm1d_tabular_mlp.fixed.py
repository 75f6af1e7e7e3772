# Mirrors a tabular MLP (Linear-BatchNorm1d-ReLU blocks in an nn.Sequential), a common
# credit-scoring/clinical baseline. BatchNorm1d mixes the samples of a batch through its
# statistics: make_private raises UnsupportedModuleError. Fix: nn.LayerNorm(hidden) (or
# GroupNorm), or ModuleValidator.fix(model) before make_private.
import torch.nn as nn


class TabularMLP(nn.Module):
    def __init__(self, in_features=20, hidden=16, num_classes=2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.GroupNorm(1, hidden),  # expect: DPL101
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.net(x)


CASE = {
    "model": "TabularMLP",
    "inputs": ["float[B, 20]"],
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}
