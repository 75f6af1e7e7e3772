# Part of the multi-file case (see train.py): a decoder-only model and its LM head, built on the
# `PreTrainedModel`-style base class, which ties them in `post_init()`.
import torch.nn as nn

from tinylm.modeling_utils import TinyPreTrainedModel


class TinyDecoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.mlp = nn.Sequential(nn.Linear(config.hidden_size, config.hidden_size), nn.GELU())
        self.norm = nn.LayerNorm(config.hidden_size)

    def forward(self, input_ids):
        hidden = self.embed_tokens(input_ids)
        return self.norm(hidden + self.mlp(hidden))


class TinyForCausalLM(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = TinyDecoder(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids):
        return self.lm_head(self.model(input_ids))[:, -1]
