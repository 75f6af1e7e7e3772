# Part of the multi-file case (see models/tabular.py): the training script.
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from engine import make_private
from models.tabular import create_model


def main():
    data = TensorDataset(torch.randn(32, 12), torch.randint(0, 2, (32,)))
    loader = DataLoader(data, batch_size=8)
    model = create_model("mlp", hidden=32)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = make_private(model, optimizer, loader)
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model
