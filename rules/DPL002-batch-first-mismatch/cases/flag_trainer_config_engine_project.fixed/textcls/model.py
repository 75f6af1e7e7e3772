# Mirrors a text-classification project configured by a dataclass (textcls/config.py,
# `batch_first: bool = True`) whose Trainer (textcls/trainer.py) calls
# make_private(..., batch_first=self.cfg.batch_first) in a method, on the model and config that
# train.py hands to its constructor. The tokens are batch-first ([batch, tokens]), and so is the
# engine, but the DPLSTM keeps its default batch_first=False: it recurs over the batch, and its
# per-sample gradients get one row per token instead of per sample. Measured (opacus 1.6.0): train.py's
# backward fails in einsum ("subscript i has size 7 ... previously seen size 8"); with equal-size
# batches, optimizer.step() fails in torch.stack ("stack expects each tensor to be equal size").
# Fix: DPLSTM(..., batch_first=True) (or pass the config's batch_first to the layer).
import torch.nn as nn
from opacus.layers import DPLSTM


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size=50, embed_dim=8, hidden=16, num_classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = DPLSTM(embed_dim, hidden, batch_first=True)  # expect: DPL002
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.fc(out[:, -1])


CASE = {
    "model": "LSTMClassifier",
    "kwargs": {"vocab_size": 50},
    "inputs": ["long[B, 7] < 50"],
    "batch_first": True,
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}
