"""The same fine-tuning function computing the loss with the returned criterion; the original `loss_fn`
only measures the validation loss, under `no_grad` (no backward): fine."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class TextClassifier(nn.Module):
    def __init__(self, vocab=50, dim=16, labels=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.classifier = nn.Linear(dim, labels)

    def forward(self, input_ids):
        return self.classifier(self.embed(input_ids).mean(dim=1))


def finetune(model, train_dataset, epochs=1, lr=0.5, batch_size=16):
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    train_loader = DataLoader(train_dataset, batch_size=batch_size)
    privacy_engine = PrivacyEngine()
    model, optimizer, dp_loss_fn, train_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=train_loader,
        criterion=loss_fn,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
        grad_sample_mode="ghost",
    )
    model.train()
    for _ in range(epochs):
        for input_ids, labels in train_loader:
            optimizer.zero_grad()
            logits = model(input_ids)
            loss = dp_loss_fn(logits, labels)
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        input_ids, labels = train_dataset[:8]
        print("validation loss", loss_fn(model(input_ids), labels).item())
    return model


def main():
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 50, (64, 6), generator=generator)
    labels = torch.randint(0, 2, (64,), generator=generator)
    finetune(TextClassifier(), TensorDataset(ids, labels))


CASE = {
    # 1.6 and later: on 1.5.4 this loop crashes ("a Tensor with 8 elements cannot be converted to
    # Scalar", measured), so it is no clean case there.
    "opacus": ">=1.6",
    "script": "main",
    "runtime": "ok",
}
