# Twin of flag_trainer_config_engine_project: the same Trainer calls
# make_private(..., batch_first=self.cfg.batch_first), and train.py passes the config's
# batch_first to the model too, so the DPLSTM and the engine agree (both batch-first). Reading the
# engine's value from the Trainer's config must not report a layer that agrees with it.
import torch.nn as nn
from opacus.layers import DPLSTM


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size=50, embed_dim=8, hidden=16, num_classes=3, batch_first=False):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = DPLSTM(embed_dim, hidden, batch_first=batch_first)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.fc(out[:, -1])


CASE = {
    "model": "LSTMClassifier",
    "kwargs": {"vocab_size": 50, "batch_first": True},
    "inputs": ["long[B, 7] < 50"],
    "batch_first": True,
    "runtime": "ok",
}
