# Part of the multi-file case (see seqlab/models/tagger.py): the DP training script.
import torch
from opacus import PrivacyEngine

from seqlab.models import SequenceTagger


def train(train_loader, epochs=1, target_epsilon=8.0):
    model = SequenceTagger(vocab_size=50)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    engine = PrivacyEngine(accountant="rdp")
    model, optimizer, train_loader = engine.make_private_with_epsilon(
        module=model,
        optimizer=optimizer,
        data_loader=train_loader,
        target_epsilon=target_epsilon,
        target_delta=1e-5,
        epochs=epochs,
        max_grad_norm=1.0,
        batch_first=False,
    )
    criterion = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        for tokens, tags in train_loader:
            optimizer.zero_grad()
            logits = model(tokens)
            criterion(logits.flatten(0, 1), tags.flatten()).backward()
            optimizer.step()
    return model
