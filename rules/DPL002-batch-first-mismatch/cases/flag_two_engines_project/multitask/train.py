# Part of the multi-file case (see models/tagger.py): two DP trainings, one per model.
import torch
from opacus import PrivacyEngine

from multitask.models.encoder import SentenceEncoder
from multitask.models.tagger import Tagger


def train_encoder(loader, noise_multiplier=1.0):
    encoder = SentenceEncoder()
    optimizer = torch.optim.SGD(encoder.parameters(), lr=0.05)
    encoder, optimizer, loader = PrivacyEngine().make_private(
        module=encoder,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=noise_multiplier,
        max_grad_norm=1.0,
        batch_first=False,
    )
    return encoder, optimizer, loader


def train_tagger(loader, noise_multiplier=1.0):
    tagger = Tagger()
    optimizer = torch.optim.SGD(tagger.parameters(), lr=0.05)
    tagger, optimizer, loader = PrivacyEngine().make_private(
        module=tagger,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=noise_multiplier,
        max_grad_norm=1.0,
    )
    return tagger, optimizer, loader
