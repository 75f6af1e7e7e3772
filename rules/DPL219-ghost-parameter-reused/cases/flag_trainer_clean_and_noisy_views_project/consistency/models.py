# Part of the multi-file case (see train.py): a small classifier built from the config.
import torch.nn as nn


class MLPClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(cfg.in_features, cfg.width), nn.GELU())
        self.head = nn.Linear(cfg.width, cfg.num_classes)

    def forward(self, x):
        return self.head(self.encoder(x))


def build_model(cfg):
    return MLPClassifier(cfg)
