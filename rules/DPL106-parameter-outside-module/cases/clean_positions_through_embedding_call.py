# The learned position table read through its module: an `nn.Embedding` lookup of
# `torch.arange(T)` expanded to the batch (what DPL106's help suggests instead of
# `self.position_embeddings.weight[:T]`). Measured on opacus 1.4.1, 1.5.4 and 1.6.0: per-sample gradients exact.
import torch
import torch.nn as nn


class Embeddings(nn.Module):
    def __init__(self, vocab_size=23, max_position=16, hidden=16):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, hidden)
        self.position_embeddings = nn.Embedding(max_position, hidden)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, input_ids):
        batch, seq_len = input_ids.shape
        positions = torch.arange(seq_len, device=input_ids.device).expand(batch, -1)
        return self.norm(self.word_embeddings(input_ids) + self.position_embeddings(positions))


class TextClassifier(nn.Module):
    def __init__(self, hidden=16, num_labels=3):
        super().__init__()
        self.embeddings = Embeddings(hidden=hidden)
        self.classifier = nn.Linear(hidden, num_labels)

    def forward(self, input_ids):
        return self.classifier(self.embeddings(input_ids)[:, 0])


CASE = {
    "model": "TextClassifier",
    "inputs": ["long[B, 10] < 23"],
    "runtime": "ok",
}
