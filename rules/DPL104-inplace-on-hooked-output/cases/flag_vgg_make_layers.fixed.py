# Mirrors torchvision's VGG: `make_layers(cfg)` builds the feature extractor from a config list
# (`layers += [conv2d, nn.ReLU(inplace=True)]`), and the classifier is
# `Linear -> ReLU(True) -> Dropout` (left out here: the one-sample-at-a-time
# reference of the runtime check cannot reproduce dropout). Every in-place ReLU right after a Conv2d or a Linear modifies
# that layer's output in place, which under Opacus 1.6.0 is a view made by the backward hook:
# `RuntimeError: Output 0 of BackwardHookFunction is a view and is being modified inplace`.
# Fix: `inplace=False` (same values).
import torch.nn as nn

CFG = [4, "M", 8, "M"]


def make_layers(cfg, in_channels=3):
    layers = []
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            layers += [conv2d, nn.ReLU(inplace=False)]  # expect: DPL104
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = make_layers(CFG)
        self.classifier = nn.Sequential(
            nn.Linear(8 * 2 * 2, 16),
            nn.ReLU(False),  # expect: DPL104
            nn.Linear(16, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = x.flatten(1)
        return self.classifier(x)


CASE = {
    "model": "VGG",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "is a view and is being modified inplace",
}
