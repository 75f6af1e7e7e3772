# The private model: a linear probe on the extracted features.
import torch.nn as nn


class Probe(nn.Module):
    def __init__(self, features=4, num_classes=3):
        super().__init__()
        self.fc = nn.Linear(features, num_classes)

    def forward(self, features):
        return self.fc(features)


CASE = {
    "model": "Probe",
    "inputs": ["float[B, 4]"],
    "runtime": "ok",
}
