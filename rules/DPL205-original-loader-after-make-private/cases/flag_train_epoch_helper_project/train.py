# Mirrors a training script whose epoch loop is a helper (engine_utils.train_one_epoch(model,
# loader, optimizer, criterion)): after make_private returned `private_loader`, the script still
# hands the helper `train_loader`, the loader it gave make_private. The private model then trains
# on batches that were not Poisson-sampled (measured: every training forward got a batch the
# DPDataLoader did not yield), so the ε that get_epsilon reports is wrong. Fix: pass
# `private_loader`.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from engine_utils import train_one_epoch
from model import Classifier


def main(epochs=1):
    x = torch.randn(64, 10)
    train_loader = DataLoader(TensorDataset(x, torch.randint(0, 3, (64,))), batch_size=16)
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = PrivacyEngine()
    model, optimizer, private_loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=train_loader, noise_multiplier=1.0, max_grad_norm=1.0)
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        train_one_epoch(model, train_loader, optimizer, criterion)  # expect: DPL205
    return engine.get_epsilon(1e-5)


CASE = {
    "script": "main",
    "runtime": "silent",
    "violation": "loader",
}
