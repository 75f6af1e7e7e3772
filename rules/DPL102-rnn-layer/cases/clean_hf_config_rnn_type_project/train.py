# Part of the multi-file case (see seqmodel/modeling.py): the training script.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine

from seqmodel.configuration import TaggerConfig
from seqmodel.modeling import Tagger


def main(loader):
    config = TaggerConfig(use_dp_rnn=True)
    model = Tagger(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for tokens, labels in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(tokens), labels).backward()
        optimizer.step()
    return model
