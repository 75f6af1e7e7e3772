# Twin of flag_validator_fix_after_engine_helper_project: the helper runs
# `model = ModuleValidator.fix(model)` on its parameter before make_private (and builds the
# optimizer on the fixed model), so the BatchNorm1d is a GroupNorm when Opacus wraps it and
# training runs. Reading the fix on the helper's parameter must not report the layer.
import torch.nn as nn


class TabularMLP(nn.Module):
    def __init__(self, in_features=12, hidden=32, num_classes=2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.net(x)


MODELS = {"mlp": TabularMLP}


def create_model(name, **kwargs):
    return MODELS[name](**kwargs)

