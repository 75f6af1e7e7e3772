# Part of the multi-file case (see train.py): a Siamese verifier, built through a registry. One encoder
# embeds both members of a pair, so its linear layers serve two calls per forward pass.
import torch
import torch.nn as nn


class MLPEncoder(nn.Module):
    def __init__(self, in_features, embed_dim):
        super().__init__()
        self.fc1 = nn.Linear(in_features, 16)
        self.fc2 = nn.Linear(16, embed_dim)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class SiameseVerifier(nn.Module):
    def __init__(self, encoder, embed_dim):
        super().__init__()
        self.encoder = encoder
        self.classifier = nn.Linear(embed_dim, 2)

    def forward(self, pairs):
        left = self.encoder(pairs[:, 0])
        right = self.encoder(pairs[:, 1])  # expect: DPL219
        return self.classifier(torch.abs(left - right))


MODELS = {"siamese": SiameseVerifier}


def build_model(name, cfg):
    encoder = MLPEncoder(cfg.in_features, cfg.embed_dim)
    return MODELS[name](encoder, cfg.embed_dim)
