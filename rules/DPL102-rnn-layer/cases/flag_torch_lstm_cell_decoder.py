# Mirrors a step-by-step decoder (seq2seq / pointer-network style) that unrolls nn.LSTMCell in a
# Python loop. Opacus' validator lets cells through, but it cannot compute their per-sample
# gradients: the first backward fails inside the hooks. Fix: run DPLSTM over the whole sequence.
import torch
import torch.nn as nn


class CellDecoder(nn.Module):
    def __init__(self, in_dim=6, hidden=10, num_classes=4):
        super().__init__()
        self.cell = nn.LSTMCell(in_dim, hidden)  # expect: DPL102
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        c = x.new_zeros(x.shape[0], self.cell.hidden_size)
        for t in range(x.shape[1]):
            h, c = self.cell(x[:, t], (h, c))
        return self.out(h)


CASE = {
    "model": "CellDecoder",
    "inputs": ["float[B, 7, 6]"],
    "runtime": "crash",
}
