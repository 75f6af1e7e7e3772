# Part of the multi-file case (see train.py): the classifier.
import torch.nn as nn


class TabularNet(nn.Module):
    def __init__(self, in_features=7, hidden=14, classes=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU())
        self.classifier = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.classifier(self.encoder(x))
