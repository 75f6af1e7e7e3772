# Clean twin of flag_t5_shared_embedding_project: the stacks receive the shared embedding at call
# time (`self.encoder(input_ids, self.shared)`) instead of storing it, so it has one parent and
# Opacus hooks it once: exact per-sample gradients (measured, opacus 1.6.0).
import torch
import torch.nn as nn

from .configuration import MiniT5Config


class T5LayerFF(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.wi = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wo = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.layer_norm = nn.LayerNorm(config.d_model)

    def forward(self, hidden_states):
        return hidden_states + self.wo(torch.relu(self.wi(self.layer_norm(hidden_states))))


class T5Stack(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.block = nn.ModuleList([T5LayerFF(config) for _ in range(config.num_layers)])
        self.final_layer_norm = nn.LayerNorm(config.d_model)

    def forward(self, input_ids, embed_tokens):
        hidden_states = embed_tokens(input_ids)
        for layer in self.block:
            hidden_states = layer(hidden_states)
        return self.final_layer_norm(hidden_states)


class MiniT5ForConditionalGeneration(nn.Module):
    def __init__(self, config: MiniT5Config):
        super().__init__()
        self.config = config
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config)
        self.decoder = T5Stack(config)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)

    def forward(self, input_ids, decoder_input_ids):
        encoded = self.encoder(input_ids, self.shared)
        decoded = self.decoder(decoder_input_ids, self.shared) + encoded.mean(1, keepdim=True)
        return self.lm_head(decoded)


def build_mini_t5():
    return MiniT5ForConditionalGeneration(MiniT5Config())


CASE = {
    "model": "build_mini_t5",
    "inputs": ["long[B, 6] < 50", "long[B, 5] < 50"],
    "runtime": "ok",
}
