# A language model in its own file, tied through module attributes in a `tie_weights()` method
# that `__init__` calls (the Hugging Face shape), and trained by `train.py` with `make_private`.
# The head is called; no parameter is used outside its module. Measured on opacus 1.4.1, 1.5.4 and 1.6.0 (hooks
# mode): per-sample gradients exact.
import torch
import torch.nn as nn


class CausalLM(nn.Module):
    def __init__(self, vocab_size=19, d_model=16, max_len=8):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab_size, d_model)
        self.embed_positions = nn.Embedding(max_len, d_model)
        self.layer = nn.Linear(d_model, d_model)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.tie_weights()

    def tie_weights(self):
        self.lm_head.weight = self.embed_tokens.weight

    def forward(self, input_ids):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).expand_as(input_ids)
        h = self.embed_tokens(input_ids) + self.embed_positions(positions)
        return self.lm_head(torch.tanh(self.layer(h))).mean(dim=1)


CASE = {
    "model": "CausalLM",
    "inputs": ["long[B, 8] < 19"],
    "runtime": "ok",
}
