# Mirrors BERT/ViT-style learned absolute positions read as a table slice,
# `self.position_embeddings.weight[:seq_len]`, instead of an embedding lookup. The position
# embedding module is never called, so Opacus gives its weight no per-sample gradient.
# Measured on opacus 1.4.1, 1.5.4 and 1.6.0: `ValueError: Per sample gradient is not initialized. Not updated in
# backward pass?` at optimizer.step().
import torch.nn as nn


class Embeddings(nn.Module):
    def __init__(self, vocab_size=23, max_position=16, hidden=16):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, hidden)
        self.position_embeddings = nn.Embedding(max_position, hidden)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, input_ids):
        seq_len = input_ids.size(1)
        positions = self.position_embeddings.weight[:seq_len]  # expect: DPL106
        return self.norm(self.word_embeddings(input_ids) + positions)


class TextClassifier(nn.Module):
    def __init__(self, hidden=16, num_labels=3):
        super().__init__()
        self.embeddings = Embeddings(hidden=hidden)
        self.encoder = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, num_labels)

    def forward(self, input_ids):
        h = self.embeddings(input_ids)
        h = self.encoder(h).tanh()
        return self.classifier(h[:, 0])


CASE = {
    "model": "TextClassifier",
    "inputs": ["long[B, 10] < 23"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
