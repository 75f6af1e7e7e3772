# Part of the multi-file case (see train.py): a decoder-only model and its LM head, tied as
# `transformers` ties them when `config.tie_word_embeddings` holds.
import torch.nn as nn


class TinyDecoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.mlp = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.GELU())
        self.norm = nn.LayerNorm(config.hidden_size)

    def forward(self, input_ids):
        hidden = self.embed_tokens(input_ids)
        return self.norm(hidden + self.mlp(hidden))


class TinyLMForSequenceScoring(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.model = TinyDecoder(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.tie_weights()

    def tie_weights(self):
        if self.config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight  # expect: DPL219

    def forward(self, input_ids):
        logits = self.lm_head(self.model(input_ids))
        return logits[:, -1]
