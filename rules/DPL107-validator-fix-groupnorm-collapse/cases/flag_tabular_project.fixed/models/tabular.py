# A tabular model of a small project; the training script (train.py) follows the Opacus
# tutorial: `model = ModuleValidator.fix(model)` before make_private. With the script's default
# `--hidden 32`, BatchNorm1d(32) right after the Linear becomes GroupNorm(32, 32) on [B, 32].
import torch.nn as nn
from opacus.validators import ModuleValidator


class TabularNet(nn.Module):
    def __init__(self, in_features, hidden, num_classes=2, dropout=0.0):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.GroupNorm(1, hidden),  # expect: DPL107
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.out(self.body(x))


def fixed_model(in_features=10, hidden=32):
    """What train.py trains with its defaults (for the runtime check)."""
    return ModuleValidator.fix(TabularNet(in_features, hidden))


CASE = {
    "model": "fixed_model",
    "inputs": ["float[B, 10]"],
    "runtime": "silent",  # GroupNorm(32, 32) on [B, 32]: constant output
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}
