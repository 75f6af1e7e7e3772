# Twin of flag_norm_name_argparse_argv_project: `--norm` defaults to "InstanceNorm2d" (no affine
# parameters, no running statistics: per-sample), and only SmallConvNet's own default names
# BatchNorm2d. Run without options the blocks hold InstanceNorm2d and Opacus computes exact
# per-sample gradients; taking the class default instead of the command line's would report a
# layer the model does not hold.
import torch.nn as nn

from vision.blocks import ConvNormAct


class SmallConvNet(nn.Module):
    def __init__(self, num_classes=10, width=8, norm="BatchNorm2d"):
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
    "kwargs": {"norm": "InstanceNorm2d"},
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}
