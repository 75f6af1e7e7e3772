# Mirrors a character-level classifier package: the model file builds its layers from a config
# dataclass, and the training script (train.py) makes it private with ghost clipping
# (`grad_sample_mode="ghost"`). The positions come from `torch.arange(t)`, shape [T]: ghost
# clipping's embedding norm sampler raises `RuntimeError: stack expects each tensor to be equal
# size` in backward (hooks mode, which the catalogue runs, raises it at optimizer.step()).
# The fix there uses `.repeat(b, 1)`: ghost clipping cannot read `.expand(...)`ed ids.
import torch
import torch.nn as nn

from charlm.config import ModelConfig


class CharClassifier(nn.Module):
    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.char_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Embedding(config.block_size, config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.out = nn.Linear(config.n_embd, config.n_classes)

    def forward(self, chars):
        b, t = chars.shape
        pos = torch.arange(t, device=chars.device)
        h = self.char_emb(chars) + self.pos_emb(pos.repeat(b, 1))  # expect: DPL111
        return self.out(torch.tanh(self.proj(h)).mean(dim=1))


CASE = {
    "model": "CharClassifier",
    "inputs": ["long[B, 12] < 40"],
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}
