# Twin of flag_lstm_subclass_project: the project still has its nn.LSTM subclass, but only the
# non-private baseline uses it; the model train.py makes private runs opacus.layers.DPLSTM. A
# subclass of a torch layer is that layer only where it is built. (Measured: a subclass of
# DPLSTM fails like one of nn.LSTM, since Opacus recognises DPLSTM by its exact type.)
import torch.nn as nn
from opacus.layers import DPLSTM

from speech.layers import SpeechLSTM


class KeywordSpotter(nn.Module):
    def __init__(self, n_mels=8, hidden=12, num_keywords=4):
        super().__init__()
        self.encoder = DPLSTM(n_mels, hidden, batch_first=True)
        self.head = nn.Linear(hidden, num_keywords)

    def forward(self, x):
        out, _ = self.encoder(x)
        return self.head(out[:, -1])


class BaselineSpotter(KeywordSpotter):
    def __init__(self, n_mels=8, hidden=12, num_keywords=4):
        super().__init__(n_mels, hidden, num_keywords)
        self.encoder = SpeechLSTM(n_mels, hidden)


CASE = {
    "model": "KeywordSpotter",
    "inputs": ["float[B, 10, 8]"],
    "runtime": "ok",
}
