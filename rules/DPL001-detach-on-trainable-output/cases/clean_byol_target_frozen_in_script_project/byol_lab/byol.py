# Part of the multi-file case (see train.py): the BYOL model, whose target network is a deep copy
# of the online encoder, used only through `.detach()`.
import copy

import torch.nn as nn
import torch.nn.functional as F


class BYOL(nn.Module):
    def __init__(self, dim=16, hidden=32):
        super().__init__()
        self.online = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.predictor = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.target = copy.deepcopy(self.online)

    def forward(self, x1, x2):
        p = self.predictor(self.online(x1))
        t = self.target(x2).detach()
        return 2 - 2 * F.cosine_similarity(p, t, dim=-1)
