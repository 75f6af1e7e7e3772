# Part of the multi-file case (see models/tabular.py): the training script, run by the catalogue
# harness as is (the model is fixed inside the helper, where the case's point is).
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from engine import make_private
from models.tabular import create_model


def main():
    data = TensorDataset(torch.randn(32, 12), torch.randint(0, 2, (32,)))
    loader = DataLoader(data, batch_size=8)
    model = create_model("mlp", hidden=32)
    model, optimizer, loader = make_private(model, loader)
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model


CASE = {
    "script": "main",
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}
