# Hugging Face-style embeddings with the registered `position_ids` buffer ([1, max_len]) sliced and
# then expanded to the batch (`.expand(batch_size, -1)`) before the lookup: [B, T] ids, exact
# per-sample gradients under Opacus (measured).
import torch
import torch.nn as nn


class Embeddings(nn.Module):
    def __init__(self, vocab_size=50, hidden_size=32, max_position_embeddings=16):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, hidden_size)
        self.position_embeddings = nn.Embedding(max_position_embeddings, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size)
        self.register_buffer("position_ids", torch.arange(max_position_embeddings).expand((1, -1)), persistent=False)

    def forward(self, input_ids):
        batch_size, seq_length = input_ids.shape
        position_ids = self.position_ids[:, :seq_length].expand(batch_size, -1)
        embeddings = self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
        return self.LayerNorm(embeddings)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = Embeddings()
        self.classifier = nn.Linear(32, 3)

    def forward(self, input_ids):
        return self.classifier(self.embeddings(input_ids)[:, 0])


CASE = {
    "model": "Classifier",
    "inputs": ["long[B, 12] < 50"],
    "runtime": "ok",
}
