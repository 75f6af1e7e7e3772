import torch
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from model import SimSiam


def main() -> None:
    model = SimSiam()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    views = TensorDataset(torch.randn(64, 32), torch.randn(64, 32))
    loader = DataLoader(views, batch_size=8)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
    )
    for x1, x2 in loader:
        optimizer.zero_grad()
        model(x1, x2).mean().backward()
        optimizer.step()


if __name__ == "__main__":
    main()
