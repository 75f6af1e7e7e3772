# Mirrors a text-classification project whose entry point overrides the dataclass config
# (`TrainConfig(batch_first=False)`, copied from a sequence-first example) while the model was
# ported to batch-first tokens with DPLSTM(batch_first=True). The Trainer calls
# make_private(..., batch_first=self.cfg.batch_first), so Opacus takes dimension 1 (the token
# position) as the batch for every layer, and computing the classifier's per-sample gradients
# fails in einsum. Fix: drop the override (the config's default is True).
import torch.nn as nn
from opacus.layers import DPLSTM


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size=50, embed_dim=8, hidden=16, num_classes=3, batch_first=True):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = DPLSTM(embed_dim, hidden, batch_first=batch_first)  # expect: DPL002
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.fc(out[:, -1])


CASE = {
    "model": "LSTMClassifier",
    "kwargs": {"vocab_size": 50},
    "inputs": ["long[B, 7] < 50"],
    "batch_first": False,
    "runtime": "crash",
    "error": "einsum",
}
