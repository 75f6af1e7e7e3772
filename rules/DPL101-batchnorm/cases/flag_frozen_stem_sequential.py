# Mirrors transfer learning with a frozen pretrained stem (conv + BatchNorm in an nn.Sequential,
# `self.stem.requires_grad_(False)`) and a trained head. The frozen stem's BatchNorm still runs in
# train mode under Opacus: the head's inputs, and so its per-sample gradients, depend on the rest
# of the batch. make_private accepts the model.
import torch.nn as nn


class TransferNet(nn.Module):
    def __init__(self, channels=4, num_classes=2):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1),
            nn.BatchNorm2d(channels),  # expect: DPL101
            nn.ReLU(),
        )
        self.stem.requires_grad_(False)
        self.head = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.head(self.stem(x).mean(dim=(2, 3)))


CASE = {
    "model": "TransferNet",
    "inputs": ["float[B, 3, 6, 6]"],
    "runtime": "silent",
}
