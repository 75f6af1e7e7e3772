# Mirrors multi-task code where each task head wraps the backbone it reads from:
# `self.backbone = Backbone()`, `self.cls = TaskHead(self.backbone, 3)`, `self.reg = TaskHead(self.backbone, 1)`.
# The backbone is registered under three parents; Opacus hooks it once per parent and its
# per-sample gradients are accumulated several times over (measured on opacus 1.6.0: silent).
import torch.nn as nn


class Backbone(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return self.fc(x).relu()


class TaskHead(nn.Module):
    def __init__(self, backbone, out_dim, dim=8):
        super().__init__()
        self.backbone = backbone
        self.fc = nn.Linear(dim, out_dim)

    def forward(self, x):
        return self.fc(self.backbone(x))


class MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.cls = TaskHead(self.backbone, 3)  # expect: DPL112
        self.reg = TaskHead(self.backbone, 1)  # expect: DPL112

    def forward(self, x):
        return self.cls(x).sum(1) + self.reg(x).squeeze(1)


CASE = {
    "model": "MultiTask",
    "inputs": ["float[B, 8]"],
    "runtime": "silent",
}
