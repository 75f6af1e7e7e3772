# Mirrors a bag-of-embeddings text classifier (the "DP sentiment" tutorial shape): token ids padded
# with 0 to a fixed length, `nn.Embedding(..., padding_idx=0)`, mean pooling, a linear head.
# Opacus' embedding grad sampler ignores padding_idx: the padding row gets a per-sample gradient
# wherever a sample holds padding, which PyTorch keeps at zero. No error; clipping uses the wrong
# per-sample gradients.
import torch.nn as nn


class TextClassifier(nn.Module):
    def __init__(self, vocab_size=8, dim=16, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)  # expect: DPL108
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        return self.fc(self.embedding(tokens).mean(dim=1))


CASE = {
    "model": "TextClassifier",
    "inputs": ["long[B, 12] < 8"],
    "runtime": "silent",
}
