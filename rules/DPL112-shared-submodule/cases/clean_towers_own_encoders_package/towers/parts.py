import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return self.fc(x).tanh()


class Tower(nn.Module):
    def __init__(self, encoder, dim=8):
        super().__init__()
        self.encoder = encoder
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return self.proj(self.encoder(x))
