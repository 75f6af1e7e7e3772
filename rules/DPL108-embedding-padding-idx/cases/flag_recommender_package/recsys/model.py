# Mirrors a sequential recommender (user history -> next-item scores): the history is padded with
# item 0 and the item embedding says `padding_idx=PAD_ITEM`. The training script wraps the model
# with make_private (hooks mode, the default).
# Opacus ignores padding_idx: every padded history gives the padding row a per-sample gradient.
import torch.nn as nn

from recsys.config import EMBED_DIM, NUM_ITEMS

PAD_ITEM = 0  # histories are left-padded with item 0


class HistoryEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.items = nn.Embedding(NUM_ITEMS, EMBED_DIM, padding_idx=PAD_ITEM)  # expect: DPL108
        self.proj = nn.Linear(EMBED_DIM, EMBED_DIM)

    def forward(self, history):
        return self.proj(self.items(history).sum(dim=1))


class NextItemModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = HistoryEncoder()
        self.scores = nn.Linear(EMBED_DIM, NUM_ITEMS)

    def forward(self, history):
        return self.scores(self.encoder(history))


CASE = {
    "model": "NextItemModel",
    "inputs": ["long[B, 9] < 8"],
    "runtime": "silent",
}
