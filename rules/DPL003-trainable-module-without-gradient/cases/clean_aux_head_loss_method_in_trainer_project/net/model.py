# `aux_head` is not called by forward() but by `auxiliary_loss`, which the trainer (train.py) calls
# on the private model every step (`self.model._module.auxiliary_loss(x, aux)`): its parameters get
# per-sample gradients and training runs (measured, opacus 1.6.0). Not a DPL003.
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, in_dim=16, hidden=32, num_classes=4, aux_dim=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.Tanh())
        self.head = nn.Linear(hidden, num_classes)
        self.aux_head = nn.Linear(hidden, aux_dim)

    def forward(self, x):
        return self.head(self.encoder(x))

    def auxiliary_loss(self, x, target):
        return F.mse_loss(self.aux_head(self.encoder(x)), target, reduction="none").sum(-1)
