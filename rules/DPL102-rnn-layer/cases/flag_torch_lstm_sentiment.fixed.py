# Mirrors an LSTM sentiment classifier (embedding, nn.LSTM, linear head on the last step) handed
# to make_private unchanged. nn.LSTM runs a fused kernel on raw parameters that Opacus' hooks
# cannot see per sample; ModuleValidator refuses it and make_private raises
# UnsupportedModuleError. Fix: opacus.layers.DPLSTM with the same arguments.
import torch.nn as nn
from opacus.layers import DPLSTM


class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size=60, embed_dim=8, hidden=12, num_classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = DPLSTM(embed_dim, hidden, batch_first=True)  # expect: DPL102
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.fc(out[:, -1])


CASE = {
    "model": "SentimentLSTM",
    "inputs": ["long[B, 9] < 60"],
    "runtime": "crash",
    "error": "We do not support nn.LSTM",
}
