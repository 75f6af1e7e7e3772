# Mirrors a Hugging Face-style project: the model reads everything from a config object, and
# the recurrent layer's class is chosen by name (`getattr(nn, config.rnn_type)`) unless
# `use_dp_rnn` asks for Opacus' DPLSTM. The training script builds `TaggerConfig()` with the
# defaults (rnn_type="LSTM", use_dp_rnn=False), so the private model holds an nn.LSTM, which
# make_private refuses ("Model contains a trainable layer that Opacus doesn't currently
# support" / UnsupportedModuleError). The clean twin's script passes use_dp_rnn=True.
import torch.nn as nn
from opacus.layers import DPLSTM

from seqmodel.configuration import TaggerConfig


class Tagger(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        rnn_cls = DPLSTM if config.use_dp_rnn else getattr(nn, config.rnn_type)
        self.rnn = rnn_cls(config.hidden_size, config.hidden_size, batch_first=True)  # expect: DPL102
        self.head = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, tokens):
        out, _ = self.rnn(self.embed(tokens))
        return self.head(out[:, -1])


def build_tagger(**overrides):
    return Tagger(TaggerConfig(**overrides))


CASE = {
    "model": "build_tagger",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "crash",
    "error": "LSTM",
}
