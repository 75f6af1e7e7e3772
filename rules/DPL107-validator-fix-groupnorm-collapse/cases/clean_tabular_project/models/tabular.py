# The flag case's project with the script's default `--hidden 48`: ModuleValidator.fix turns
# BatchNorm1d(48) into GroupNorm(gcd(32, 48), 48) = GroupNorm(16, 48), three features per group,
# which normalises and trains (measured on opacus 1.6.0: gradient of the Linear before it 0.81).
import torch.nn as nn
from opacus.validators import ModuleValidator


class TabularNet(nn.Module):
    def __init__(self, in_features, hidden, num_classes=2, dropout=0.0):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.out(self.body(x))


def fixed_model(in_features=10, hidden=48):
    """What train.py trains with its defaults (for the runtime check)."""
    return ModuleValidator.fix(TabularNet(in_features, hidden))


CASE = {
    "model": "fixed_model",
    "inputs": ["float[B, 10]"],
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}
