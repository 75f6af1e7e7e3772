# Mirrors a language-model-style LSTM written for sequence-first batches ([tokens, batch], nn.LSTM's
# default batch_first=False) with no make_private call in sight, so Opacus' default
# batch_first=True is assumed. Two problems on one line: make_private refuses nn.LSTM
# (UnsupportedModuleError, DPL102), and once it is replaced by DPLSTM its sequence-first layout
# still disagrees with the engine's default (DPL002). Fix: DPLSTM(..., batch_first=True) with
# batch-first data, or DPLSTM and make_private(batch_first=False).
import torch.nn as nn
from opacus.layers import DPLSTM


class WordLSTM(nn.Module):
    def __init__(self, vocab_size=40, embed_dim=8, hidden=12):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = DPLSTM(embed_dim, hidden, batch_first=True)  # expect: DPL102, DPL002
        self.decoder = nn.Linear(hidden, vocab_size)

    def forward(self, tokens):  # [T, B]
        out, _ = self.lstm(self.embed(tokens))
        return self.decoder(out)


CASE = {
    "model": "WordLSTM",
    "inputs": ["long[6, B] < 40"],
    "runtime": "crash",
    "error": "UnsupportedModuleError",
}
