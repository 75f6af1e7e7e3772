# The padding handled by a mask instead of `padding_idx`: the embedding output is zeroed at the
# padding positions, so no gradient reaches the padding row in PyTorch or in Opacus (per-sample
# gradients exact), and the forward matches `padding_idx=0` with a zero padding row.
import torch.nn as nn

PAD = 0


class MaskedTextClassifier(nn.Module):
    def __init__(self, vocab_size=8, dim=16, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        mask = (tokens != PAD).unsqueeze(-1).float()
        h = self.embedding(tokens) * mask
        return self.fc(h.sum(dim=1) / mask.sum(dim=1).clamp(min=1.0))


CASE = {
    "model": "MaskedTextClassifier",
    "inputs": ["long[B, 12] < 8"],
    "runtime": "ok",
}
