# Twin of flag_config_clipping_ghost_project: the dataclass says `clipping: str = "flat"`, the one
# clipping ghost mode supports, and the loss is computed with the criterion make_private returned:
# per-sample clipping holds (measured with outlier samples).
import torch
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from config import DPConfig
from losses import build_criterion
from model import Classifier


def main():
    cfg = DPConfig()
    x = torch.randn(64, 10)
    x[::8] *= 100
    loader = DataLoader(TensorDataset(x, torch.randint(0, 3, (64,))), batch_size=cfg.batch_size)
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    criterion = build_criterion()
    engine = PrivacyEngine()
    model, optimizer, dp_criterion, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, criterion=criterion,
        noise_multiplier=cfg.noise_multiplier, max_grad_norm=cfg.max_grad_norm,
        grad_sample_mode=cfg.grad_sample_mode,
        clipping=cfg.clipping,
    )
    for features, labels in loader:
        optimizer.zero_grad()
        loss = dp_criterion(model(features), labels)
        loss.backward()
        optimizer.step()
    return model


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "runtime": "ok",
}
