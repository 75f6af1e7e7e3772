import torch
import torch.nn as nn
from opacus import PrivacyEngine

from charlm.config import ModelConfig
from charlm.model import CharClassifier


def train(train_loader, epochs=1):
    model = CharClassifier(ModelConfig())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    privacy_engine = PrivacyEngine()
    model, optimizer, criterion, train_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=train_loader,
        criterion=criterion,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
        grad_sample_mode="ghost",
    )
    for _ in range(epochs):
        for chars, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(chars), labels)
            loss.backward()
            optimizer.step()
    return model
