# Mirrors Hugging Face's BertEmbeddings: the position ids are a buffer registered in __init__ as
# `torch.arange(max_position_embeddings).expand((1, -1))` (shape [1, max_len]) and sliced to the
# sequence length in forward, so the lookup gets [1, T]: the `.expand((1, -1))` keeps a batch of one.
# Word and token-type embeddings get [B, T]. Opacus gives `position_embeddings` one per-sample
# gradient instead of B: optimizer.step() raises in torch.stack.
import torch
import torch.nn as nn


class BertConfig:
    def __init__(self, vocab_size=50, hidden_size=32, max_position_embeddings=16, type_vocab_size=2,
                 layer_norm_eps=1e-12, num_labels=3):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.layer_norm_eps = layer_norm_eps
        self.num_labels = num_labels


class BertEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.register_buffer(
            "position_ids", torch.arange(config.max_position_embeddings).expand((1, -1)), persistent=False
        )

    def forward(self, input_ids):
        seq_length = input_ids.size(1)
        position_ids = self.position_ids[:, :seq_length]
        token_type_ids = torch.zeros_like(input_ids)
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids.expand(embeddings.size(0), -1))  # expect: DPL111
        return self.LayerNorm(embeddings)


class BertForSequenceClassification(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        config = config or BertConfig()
        self.embeddings = BertEmbeddings(config)
        self.encoder = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.Tanh())
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids):
        hidden = self.encoder(self.embeddings(input_ids))
        return self.classifier(hidden[:, 0])


CASE = {
    "model": "BertForSequenceClassification",
    "inputs": ["long[B, 12] < 50"],
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}
