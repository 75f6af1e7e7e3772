# Twin of flag_rnn_registry_argparse_factory_project: `--rnn` defaults to "dpgru", so the
# registry gives opacus.layers.DPGRU (batch-first, like the engine) and Opacus computes exact
# per-sample gradients; SeqTagger's own default and the registry's other entries (nn.GRU,
# nn.LSTM) are not what the script builds and must not be reported.
import torch.nn as nn
from opacus.layers import DPGRU, DPLSTM

RNNS = {"gru": nn.GRU, "lstm": nn.LSTM, "dpgru": DPGRU, "dplstm": DPLSTM}


class SeqTagger(nn.Module):
    def __init__(self, vocab=40, emb=8, hidden=16, num_tags=5, rnn="gru"):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = RNNS[rnn](emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, num_tags)

    def forward(self, tokens):
        h, _ = self.rnn(self.embedding(tokens))
        return self.out(h.mean(dim=1))


def build_model(args):
    return SeqTagger(hidden=args.hidden, rnn=args.rnn)


CASE = {
    "model": "SeqTagger",
    "kwargs": {"rnn": "dpgru"},
    "inputs": ["long[B, 6] < 40"],
    "runtime": "ok",
}
