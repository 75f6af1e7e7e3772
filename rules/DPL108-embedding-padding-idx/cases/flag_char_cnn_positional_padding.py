# Mirrors a character-level CNN classifier where the padding index is passed positionally
# (`nn.Embedding(n_chars, dim, PAD)`, torch's third parameter) from a module constant.
import torch.nn as nn

PAD = 0


class CharCNN(nn.Module):
    def __init__(self, n_chars=8, dim=8, channels=6):
        super().__init__()
        self.chars = nn.Embedding(n_chars, dim, PAD)  # expect: DPL108
        self.conv = nn.Conv1d(dim, channels, kernel_size=3, padding=1)
        self.out = nn.Linear(channels, 2)

    def forward(self, chars):
        h = self.conv(self.chars(chars).transpose(1, 2))
        return self.out(h.relu().amax(dim=2))


CASE = {
    "model": "CharCNN",
    "inputs": ["long[B, 10] < 8"],
    "runtime": "silent",
}
