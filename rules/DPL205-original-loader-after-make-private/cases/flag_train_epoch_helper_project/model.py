# Part of the multi-file case (see train.py): the classifier.
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, in_features=10, hidden=16, num_classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.body(x)
