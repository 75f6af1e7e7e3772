# Mirrors a sequence-tagging project whose recurrent layer is picked by name: train.py's `--rnn`
# defaults to "gru" (parsed with `parser.parse_args(argv)` in `main(argv=None)`), build_model(args)
# passes it to SeqTagger, and SeqTagger looks the class up in a registry (RNNS[rnn]). Run without
# options, the model holds nn.GRU, which make_private refuses ("We do not support nn.GRU").
# Fix: `--rnn dpgru` as the default (opacus.layers.DPGRU), or ModuleValidator.fix(model).
import torch.nn as nn
from opacus.layers import DPGRU, DPLSTM

RNNS = {"gru": nn.GRU, "lstm": nn.LSTM, "dpgru": DPGRU, "dplstm": DPLSTM}


class SeqTagger(nn.Module):
    def __init__(self, vocab=40, emb=8, hidden=16, num_tags=5, rnn="dpgru"):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = RNNS[rnn](emb, hidden, batch_first=True)  # expect: DPL102
        self.out = nn.Linear(hidden, num_tags)

    def forward(self, tokens):
        h, _ = self.rnn(self.embedding(tokens))
        return self.out(h.mean(dim=1))


def build_model(args):
    return SeqTagger(hidden=args.hidden, rnn=args.rnn)


CASE = {
    "model": "SeqTagger",
    "kwargs": {"rnn": "gru"},
    "inputs": ["long[B, 6] < 40"],
    "runtime": "crash",
    "error": "We do not support nn.GRU",
}
