# The padding index only on the branch a flag turns off (`use_padding_idx=False` in the
# configuration the model is built with): the layer built has no padding_idx.
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, vocab_size=8, dim=16, use_padding_idx=False):
        super().__init__()
        if use_padding_idx:
            self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        else:
            self.embedding = nn.Embedding(vocab_size, dim)
        self.fc = nn.Linear(dim, 2)

    def forward(self, tokens):
        return self.fc(self.embedding(tokens).mean(dim=1))


CASE = {
    "model": "Classifier",
    "inputs": ["long[B, 12] < 8"],
    "runtime": "ok",
}
