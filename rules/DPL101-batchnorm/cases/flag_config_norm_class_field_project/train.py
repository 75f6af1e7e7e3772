# Mirrors a tabular project whose model configuration is a dataclass holding the normalisation class
# (`norm_layer: type = nn.BatchNorm1d`), which the model calls as `cfg.norm_layer(cfg.hidden)`.
# Built with the defaults, the private model holds a BatchNorm1d and make_private refuses it
# ("BatchNorm cannot support training with differential privacy"). Fix: a per-sample norm in the
# config (`nn.LayerNorm`, GroupNorm) or ModuleValidator.fix(model) before make_private.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from config import ModelConfig
from model import MLP


def main():
    loader = DataLoader(TensorDataset(torch.randn(32, 12), torch.randint(0, 2, (32,))), batch_size=8)
    model = MLP(ModelConfig())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}
