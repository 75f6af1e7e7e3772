# Twin of flag_encoder_class_passed_project: the script passes the GNEncoder class, so the model
# the engine wraps holds GroupNorm only; the parameter's default (BNEncoder) is never built.
# Reading the default instead of the class passed would report a BatchNorm that does not exist.
import torch.nn as nn

from selfsup.encoders import BNEncoder, GNEncoder


class ContrastiveModel(nn.Module):
    def __init__(self, base_encoder=BNEncoder, dim=16, num_classes=10):
        super().__init__()
        self.encoder = base_encoder(num_classes=dim)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, x):
        return self.classifier(self.encoder(x))


def build_model(dim=16):
    return ContrastiveModel(GNEncoder, dim=dim)


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}
