# Part of the multi-file SimSiam case (see model.py): SimSiam's projection and prediction MLPs.
from torch import nn


def projection_mlp(in_dim, out_dim):
    return nn.Sequential(nn.Linear(in_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))


def prediction_mlp(dim, bottleneck):
    return nn.Sequential(nn.Linear(dim, bottleneck), nn.GELU(), nn.Linear(bottleneck, dim))
