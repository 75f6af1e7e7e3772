# Part of the multi-file case (see myproj/models/text.py): the DP training script.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine

from myproj.models import TextClassifier


def main(train_loader, epochs=1):
    model = TextClassifier(vocab_size=50)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=train_loader,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
        batch_first=False,
    )
    for _ in range(epochs):
        for tokens, labels in train_loader:
            optimizer.zero_grad()
            F.cross_entropy(model(tokens), labels).backward()
            optimizer.step()
    return privacy_engine.get_epsilon(delta=1e-5)
