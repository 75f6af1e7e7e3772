# Mirrors a two-branch recurrent classifier (a DPLSTM over words and a DPGRU over characters),
# both built with batch_first=True for [batch, time, ...] inputs, as make_private expects by
# default. Layers and engine agree: per-sample gradients are exact.
import torch
import torch.nn as nn
from opacus.layers import DPGRU, DPLSTM


class WordCharClassifier(nn.Module):
    def __init__(self, words=60, chars=30, dim=8, hidden=12, num_classes=4):
        super().__init__()
        self.word_embed = nn.Embedding(words, dim)
        self.char_embed = nn.Embedding(chars, dim)
        self.word_rnn = DPLSTM(dim, hidden, batch_first=True)
        self.char_rnn = DPGRU(dim, hidden, batch_first=True)
        self.head = nn.Linear(2 * hidden, num_classes)

    def forward(self, words, chars):
        w, _ = self.word_rnn(self.word_embed(words))
        c, _ = self.char_rnn(self.char_embed(chars))
        return self.head(torch.cat([w[:, -1], c[:, -1]], dim=-1))


CASE = {
    "model": "WordCharClassifier",
    "inputs": ["long[B, 6] < 60", "long[B, 11] < 30"],
    "runtime": "ok",
}
