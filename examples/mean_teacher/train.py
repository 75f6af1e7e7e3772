import torch
from opacus import PrivacyEngine

from model import MeanTeacher


def main(loader) -> None:
    model = MeanTeacher()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private_with_epsilon(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        target_epsilon=8.0,
        target_delta=1e-5,
        epochs=10,
        max_grad_norm=1.0,
    )
