import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from opacus import PrivacyEngine

from net import SmallCNN
from net.model import NetConfig


def run(model, loader, epochs=1, lr=0.1):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    pe = PrivacyEngine(accountant="rdp")
    model, optimizer, loader = pe.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=loader,
        target_epsilon=8.0, target_delta=1e-5, epochs=epochs, max_grad_norm=1.0,
    )
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    return pe.get_epsilon(1e-5)


def main():
    cfg = NetConfig(num_classes=10)
    data = TensorDataset(torch.randn(32, 3, 8, 8), torch.randint(0, 10, (32,)))
    return run(SmallCNN(cfg), DataLoader(data, batch_size=8))
