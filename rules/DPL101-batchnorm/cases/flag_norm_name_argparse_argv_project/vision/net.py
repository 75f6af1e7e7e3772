# Mirrors a vision project whose normalisation layer is picked by name on the command line:
# train.py's `--norm` defaults to "BatchNorm2d", parsed with `parser.parse_args(argv)` inside
# `main(argv=None)`, and SmallConvNet looks the class up with getattr(nn, norm) and hands it to
# each ConvNormAct block. Run without options, the model holds BatchNorm2d, which make_private
# refuses ("BatchNorm cannot support training with differential privacy"). Fix:
# `--norm InstanceNorm2d` as the default (or GroupNorm), or ModuleValidator.fix(model).
import torch.nn as nn

from vision.blocks import ConvNormAct


class SmallConvNet(nn.Module):
    def __init__(self, num_classes=10, width=8, norm="InstanceNorm2d"):
        super().__init__()
        norm_layer = getattr(nn, norm)
        self.features = nn.Sequential(
            ConvNormAct(3, width, norm_layer=norm_layer),
            ConvNormAct(width, 2 * width, stride=2, norm_layer=norm_layer),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.features(x)).flatten(1))


CASE = {
    "model": "SmallConvNet",
    "kwargs": {"norm": "BatchNorm2d"},
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}
