# Fine-tuning a classifier on top of frozen pretrained word vectors: the embedding keeps its
# `padding_idx=0` but is frozen, so Opacus computes no per-sample gradient for it (only the head's,
# which are exact).
import torch.nn as nn


class FrozenEmbeddingClassifier(nn.Module):
    def __init__(self, vocab_size=8, dim=16, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.embedding.weight.requires_grad = False
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        return self.fc(self.embedding(tokens).mean(dim=1))


CASE = {
    "model": "FrozenEmbeddingClassifier",
    "inputs": ["long[B, 12] < 8"],
    "runtime": "ok",
}
