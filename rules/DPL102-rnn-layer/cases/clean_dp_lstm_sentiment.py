# Mirrors the Opacus port of an LSTM sentiment classifier: DPLSTM (same arguments and state dict
# as nn.LSTM) with batch_first=True. Its gates are built from RNNLinear layers that Opacus'
# hooks see, so make_private accepts it and per-sample gradients are exact.
import torch.nn as nn
from opacus.layers import DPLSTM


class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size=60, embed_dim=8, hidden=12, num_classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = DPLSTM(embed_dim, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.fc(out[:, -1])


CASE = {
    "model": "SentimentLSTM",
    "inputs": ["long[B, 9] < 60"],
    "runtime": "ok",
}
