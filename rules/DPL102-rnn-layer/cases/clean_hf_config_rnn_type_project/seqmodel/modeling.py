# Twin of flag_hf_config_rnn_type_project: the same config-driven model, but the training script
# builds `TaggerConfig(use_dp_rnn=True)`, so the recurrent layer is Opacus' DPLSTM. Reading the
# config's default instead of the keyword given at the construction would report an nn.LSTM
# that is never built.
import torch.nn as nn
from opacus.layers import DPLSTM

from seqmodel.configuration import TaggerConfig


class Tagger(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        rnn_cls = DPLSTM if config.use_dp_rnn else getattr(nn, config.rnn_type)
        self.rnn = rnn_cls(config.hidden_size, config.hidden_size, batch_first=True)
        self.head = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, tokens):
        out, _ = self.rnn(self.embed(tokens))
        return self.head(out[:, -1])


def build_tagger(**overrides):
    return Tagger(TaggerConfig(**overrides))


CASE = {
    "model": "build_tagger",
    "kwargs": {"use_dp_rnn": True},
    "inputs": ["long[B, 7] < 50"],
    "runtime": "ok",
}
