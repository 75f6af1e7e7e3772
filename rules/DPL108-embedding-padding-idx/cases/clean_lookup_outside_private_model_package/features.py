# A frozen feature extractor outside the private model: it keeps `padding_idx=0` but runs under
# no_grad (and frozen) in the data pipeline, before the private model sees the features.
import torch
import torch.nn as nn


class FeatureExtractor(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(8, 16, padding_idx=0)
        self.requires_grad_(False)

    @torch.no_grad()
    def forward(self, tokens):
        return self.embedding(tokens).mean(dim=1)
