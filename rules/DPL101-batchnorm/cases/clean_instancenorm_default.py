# Mirrors an encoder with InstanceNorm2d left at its defaults (affine=False,
# track_running_stats=False): it normalises each sample on its own and owns no parameter, so
# ModuleValidator has nothing to refuse and per-sample gradients are exact.
import torch.nn as nn


class StyleEncoder(nn.Module):
    def __init__(self, channels=8, style_dim=6):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.norm = nn.InstanceNorm2d(channels)
        self.act = nn.GELU()
        self.fc = nn.Linear(channels, style_dim)

    def forward(self, x):
        h = self.act(self.norm(self.conv(x)))
        return self.fc(h.mean(dim=(2, 3)))


CASE = {
    "model": "StyleEncoder",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}
