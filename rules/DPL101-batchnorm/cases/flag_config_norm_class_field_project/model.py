# Part of the multi-file case (see train.py): the model, built from the configuration.
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(cfg.in_features, cfg.hidden)
        self.norm = cfg.norm_layer(cfg.hidden)  # expect: DPL101
        self.fc2 = nn.Linear(cfg.hidden, 2)

    def forward(self, x):
        return self.fc2(self.norm(self.fc1(x)).relu())
