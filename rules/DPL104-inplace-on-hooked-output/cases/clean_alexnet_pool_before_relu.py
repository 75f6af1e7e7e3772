# Mirrors LeNet/AlexNet-style feature extractors that pool before the activation:
# `Conv2d -> MaxPool2d -> ReLU(inplace=True)`. The in-place ReLU modifies the pooling layer's
# output, which is an ordinary tensor (MaxPool2d has no parameters, so Opacus does not hook it).
# Measured on Opacus 1.6.0: trains, per-sample gradients exact. Not a DPL104 finding.
import torch.nn as nn


class LeNetish(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, kernel_size=3, padding=1),
            nn.MaxPool2d(kernel_size=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(4, 8, kernel_size=3, padding=1),
            nn.AvgPool2d(kernel_size=2),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(8 * 2 * 2, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


CASE = {
    "model": "LeNetish",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}
