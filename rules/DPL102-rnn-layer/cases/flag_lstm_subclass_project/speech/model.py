# Mirrors a speech project whose encoder layer subclasses nn.LSTM. It is an nn.LSTM to Opacus:
# make_private's validator checks exact types and lets the subclass through, then Opacus cannot
# compute its per-sample gradients and the first backward fails. Fix: derive from
# opacus.layers.DPLSTM instead (the clean twin), same arguments.
import torch.nn as nn

from speech.layers import SpeechLSTM


class KeywordSpotter(nn.Module):
    def __init__(self, n_mels=8, hidden=12, num_keywords=4):
        super().__init__()
        self.encoder = SpeechLSTM(n_mels, hidden)
        self.head = nn.Linear(hidden, num_keywords)

    def forward(self, x):
        out, _ = self.encoder(x)
        return self.head(out[:, -1])


CASE = {
    "model": "KeywordSpotter",
    "inputs": ["float[B, 10, 8]"],
    "runtime": "crash",
}
