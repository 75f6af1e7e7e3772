# Mirrors a tabular project whose model comes from a name registry (create_model("mlp", ...)) and
# whose privacy set-up lives in a helper module, engine.py: make_private(model, optimizer, loader)
# calls PrivacyEngine().make_private on its parameter and only then runs ModuleValidator.fix, too
# late: make_private already refused the BatchNorm1d ("BatchNorm cannot support training with
# differential privacy"). (The helper's local `engine` is a PrivacyEngine, not the module engine.py.)
# Fix: ModuleValidator.fix(model) before make_private (and build the optimizer on the fixed model).
import torch.nn as nn


class TabularMLP(nn.Module):
    def __init__(self, in_features=12, hidden=32, num_classes=2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),  # expect: DPL101
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.net(x)


MODELS = {"mlp": TabularMLP}


def create_model(name, **kwargs):
    return MODELS[name](**kwargs)


CASE = {
    "model": "TabularMLP",
    "kwargs": {"hidden": 32},
    "inputs": ["float[B, 12]"],
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}
