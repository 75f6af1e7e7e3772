import torch
from opacus import PrivacyEngine

from lm.model import CausalLM


def main(loader):
    model = CausalLM()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for input_ids, targets in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(input_ids), targets).backward()
        optimizer.step()
