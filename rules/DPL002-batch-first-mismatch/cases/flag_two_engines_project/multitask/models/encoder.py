# Part of the multi-file case (see tagger.py): a sequence-first sentence encoder, trained with
# make_private(batch_first=False) in train.py. Layer and engine agree: not a finding.
import torch.nn as nn
from opacus.layers import DPLSTM


class SentenceEncoder(nn.Module):
    def __init__(self, vocab_size=50, embed_dim=8, hidden=12):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = DPLSTM(embed_dim, hidden)
        self.proj = nn.Linear(hidden, 8)

    def forward(self, tokens):  # tokens: [T, B]
        out, _ = self.lstm(self.embed(tokens))
        return self.proj(out[-1])
