import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator

from vision.models import resnet_tiny

CONFIG = dict(num_classes=10, lr=0.05, epochs=1, batch_size=16, noise_multiplier=1.0, max_grad_norm=1.2)


def get_loader(cfg):
    data = TensorDataset(torch.randn(64, 3, 8, 8), torch.randint(0, cfg["num_classes"], (64,)))
    return DataLoader(data, batch_size=cfg["batch_size"], shuffle=True)


def main(cfg=CONFIG):
    model = resnet_tiny(num_classes=cfg["num_classes"])
    errors = ModuleValidator.validate(model, strict=False)
    if errors:
        model = ModuleValidator.fix(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9)
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=get_loader(cfg),
        noise_multiplier=cfg["noise_multiplier"],
        max_grad_norm=cfg["max_grad_norm"],
    )
    criterion = nn.CrossEntropyLoss()
    for _ in range(cfg["epochs"]):
        for images, target in train_loader:
            loss = criterion(model(images), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return loss.item()
