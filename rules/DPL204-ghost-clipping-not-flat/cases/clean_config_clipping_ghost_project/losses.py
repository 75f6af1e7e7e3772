# Part of the multi-file case (see train.py): the project's loss factory.
import torch.nn as nn


def build_criterion(reduction="mean", label_smoothing=0.0):
    return nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)
