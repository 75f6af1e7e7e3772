import torch.nn as nn


class TextClassifier(nn.Module):
    """Bag-of-embeddings classifier: an embedding table, mean-pooled, and a linear head."""

    def __init__(self, vocab_size: int = 100, dim: int = 32, num_labels: int = 4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.head = nn.Linear(dim, num_labels)

    def forward(self, input_ids):
        return self.head(self.embed(input_ids).mean(dim=1))
