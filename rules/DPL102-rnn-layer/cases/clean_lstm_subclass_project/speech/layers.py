# Part of the multi-file case (see model.py): the project's own recurrent layer, a subclass of
# nn.LSTM that fixes the layout and the number of layers.
import torch.nn as nn


class SpeechLSTM(nn.LSTM):
    def __init__(self, n_mels, hidden):
        super().__init__(n_mels, hidden, num_layers=1, batch_first=True)
