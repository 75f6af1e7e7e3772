# Mirrors an experiment project with a model registry: `MODELS` maps names to classes, the
# config dataclass names the architecture (`arch = "bn_mlp"` by default) and the training script
# builds `MODELS[cfg.arch](cfg.in_dim, cfg.hidden)`. The model made private is therefore BNMLP,
# whose BatchNorm1d Opacus refuses ("BatchNorm cannot support training with differential
# privacy"). The clean twin's config defaults to "mlp".
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, in_dim=20, hidden=32, num_classes=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.net(x)


class BNMLP(nn.Module):
    def __init__(self, in_dim=20, hidden=32, num_classes=3):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.bn = nn.GroupNorm(1, hidden)  # expect: DPL101
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.fc2(self.bn(self.fc1(x)).relu())


MODELS = {"mlp": MLP, "bn_mlp": BNMLP}

CASE = {
    "model": "BNMLP",
    "args": [20, 32],
    "inputs": ["float[B, 20]"],
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}
