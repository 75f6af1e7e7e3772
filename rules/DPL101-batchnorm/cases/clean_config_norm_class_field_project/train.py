# Twin of flag_config_norm_class_field_project: train.py builds the config with
# `ModelConfig(norm_layer=nn.LayerNorm)`, so `cfg.norm_layer(cfg.hidden)` is a LayerNorm (per
# sample) and Opacus trains the model; the dataclass's BatchNorm1d default must not be reported.
import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from config import ModelConfig
from model import MLP


def main():
    loader = DataLoader(TensorDataset(torch.randn(32, 12), torch.randint(0, 2, (32,))), batch_size=8)
    model = MLP(ModelConfig(norm_layer=nn.LayerNorm))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}
