from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from opacus import PrivacyEngine

from semi.nets import MeanTeacher

cfg = SimpleNamespace(backbone="wide_basic", num_classes=4, ema_decay=0.99, lr=0.05, noise=1.0, clip=1.0, bs=8, lam=1.0)


def consistency(logits, targets):
    return F.kl_div(F.log_softmax(logits, -1), targets, reduction="none").sum(-1)


def main():
    model = MeanTeacher(cfg.backbone, cfg.num_classes, cfg.ema_decay)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True)
    data = TensorDataset(torch.randn(32, 16), torch.randn(32, 16), torch.randint(0, cfg.num_classes, (32,)))
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=cfg.bs),
        noise_multiplier=cfg.noise, max_grad_norm=cfg.clip,
    )
    for x_weak, x_strong, y in loader:
        logits, targets = model(x_weak, x_strong)
        loss = (F.cross_entropy(logits, y, reduction="none") + cfg.lam * consistency(logits, targets)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model._module.update_teacher()
    return loss.item()
