import torch.nn as nn

from .layers import AttentionBlock


class TextClassifier(nn.Module):
    """Embedding -> attention blocks -> LSTM -> linear head, on batch-first token ids."""

    def __init__(self, vocab_size: int = 100, dim: int = 16, depth: int = 2, num_classes: int = 3):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.blocks = nn.ModuleList([AttentionBlock(dim, heads=1) for _ in range(depth)])
        self.rnn = nn.LSTM(dim, dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        for block in self.blocks:
            h = block(h)
        h, _ = self.rnn(h)
        return self.head(h[:, -1])
