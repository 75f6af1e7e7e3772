# Mirrors a style-transfer-like encoder with InstanceNorm2d(affine=True, track_running_stats=True)
# (the setting of some GAN codebases). Instance normalisation itself is per sample, but the
# running statistics are data-dependent state without a privacy mechanism: ModuleValidator
# refuses the layer (it owns trainable affine parameters) and make_private raises
# UnsupportedModuleError. Fix: track_running_stats=False.
import torch.nn as nn


class StyleEncoder(nn.Module):
    def __init__(self, channels=8, style_dim=6):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.norm = nn.InstanceNorm2d(channels, affine=True, track_running_stats=False)  # expect: DPL101
        self.act = nn.GELU()
        self.fc = nn.Linear(channels, style_dim)

    def forward(self, x):
        h = self.act(self.norm(self.conv(x)))
        return self.fc(h.mean(dim=(2, 3)))


CASE = {
    "model": "StyleEncoder",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "We do not support tracking running stats",
}
