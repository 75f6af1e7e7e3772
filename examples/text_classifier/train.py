import torch
from opacus import PrivacyEngine

from textcls import TextClassifier


def main(loader, device="cpu") -> None:
    model = TextClassifier(vocab_size=1000).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    privacy_engine = PrivacyEngine()
    # batch_first defaults to True: token batches are shaped [batch, seq].
    model, optimizer, loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=1.1,
        max_grad_norm=1.0,
    )
