# Mirrors a multi-GPU training recipe that builds its normalisation as nn.SyncBatchNorm (what
# `nn.SyncBatchNorm.convert_sync_batchnorm` produces). SyncBatchNorm shares batch statistics
# across all processes, so samples are even less independent than with BatchNorm: ModuleValidator
# refuses it like BatchNorm and make_private raises UnsupportedModuleError. Fix: nn.GroupNorm.
import torch.nn as nn
import math


class ConvClassifier(nn.Module):
    def __init__(self, width=8, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, stride=2, padding=1),
            nn.GroupNorm(math.gcd(32, width), width),  # expect: DPL101
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x))


CASE = {
    "model": "ConvClassifier",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "UnsupportedModuleError",
}
