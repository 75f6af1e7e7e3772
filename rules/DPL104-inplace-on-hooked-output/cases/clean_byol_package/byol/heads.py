# BYOL-style projector/predictor helper with out-of-place activations (GELU, ReLU()).
import torch.nn as nn


def mlp(in_dim, hidden_dim, out_dim):
    layers = [nn.Linear(in_dim, hidden_dim), nn.LayerNorm(hidden_dim)]
    layers.append(nn.ReLU())
    layers += [nn.Linear(hidden_dim, out_dim)]
    return nn.Sequential(*layers)
