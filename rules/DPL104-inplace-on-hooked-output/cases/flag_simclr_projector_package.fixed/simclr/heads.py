# An SSL projector helper as SimCLR/BYOL code bases write it: hidden layers
# `Linear -> ReLU(inplace=True)`, built from a `layers` list.
import torch.nn as nn


def mlp(in_dim, hidden_dim, out_dim, num_layers=2):
    layers = []
    dim = in_dim
    for _ in range(num_layers - 1):
        layers.append(nn.Linear(dim, hidden_dim))
        layers.append(nn.ReLU(inplace=False))  # expect: DPL104
        dim = hidden_dim
    layers.append(nn.Linear(dim, out_dim))
    return nn.Sequential(*layers)
