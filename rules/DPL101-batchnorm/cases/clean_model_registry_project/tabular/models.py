# Twin of flag_model_registry_project: the same registry and script, but the config dataclass
# defaults to `arch = "mlp"`, so the private model is MLP (no BatchNorm). BNMLP is in the
# registry and never built: reporting it (what an unresolved engine call would do) is wrong.
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
        self.bn = nn.BatchNorm1d(hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.fc2(self.bn(self.fc1(x)).relu())


MODELS = {"mlp": MLP, "bn_mlp": BNMLP}

CASE = {
    "model": "MLP",
    "args": [20, 32],
    "inputs": ["float[B, 20]"],
    "runtime": "ok",
}
