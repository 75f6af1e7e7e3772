# Mirrors MoCo-style code where the encoder *class* is passed to the model, which builds it
# (`self.encoder = base_encoder(num_classes=dim)`). The script builds
# `ContrastiveModel(BNEncoder, dim=16)`, so the private model holds a BatchNorm2d, which Opacus
# refuses ("BatchNorm cannot support training with differential privacy"). The clean twin passes
# GNEncoder (the default stays BNEncoder: reading the default would be wrong there).
import torch.nn as nn

from selfsup.encoders import BNEncoder


class ContrastiveModel(nn.Module):
    def __init__(self, base_encoder=BNEncoder, dim=16, num_classes=10):
        super().__init__()
        self.encoder = base_encoder(num_classes=dim)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, x):
        return self.classifier(self.encoder(x))


def build_model(dim=16):
    return ContrastiveModel(BNEncoder, dim=dim)


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}
