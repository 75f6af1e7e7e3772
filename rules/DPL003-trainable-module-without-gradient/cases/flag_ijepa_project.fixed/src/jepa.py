# Mirrors the I-JEPA code base (Assran et al., 2023), where the target encoder is a deep copy of the
# context encoder run under `torch.no_grad()`; the official training script freezes it with
# `p.requires_grad = False`, a step that was lost when the encoders were wrapped in one model here.
# The copy's trainable parameters never get a per-sample gradient: DPOptimizer.step() raises
# "Per sample gradient is not initialized". Fix: freeze the copy in __init__.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from src.models.vision_transformer import Predictor, VisionEncoder


class JEPA(nn.Module):
    def __init__(self, num_context=4):
        super().__init__()
        self.num_context = num_context
        self.encoder = VisionEncoder()
        self.predictor = Predictor()
        self.target_encoder = copy.deepcopy(self.encoder)  # expect: DPL003
        self.target_encoder.requires_grad_(False)

    def forward(self, patches):
        context, targets = patches[:, : self.num_context], patches[:, self.num_context :]
        with torch.no_grad():
            h = self.target_encoder(targets)
            h = F.layer_norm(h, (h.size(-1),))
        z = self.predictor(self.encoder(context), targets.shape[1])
        return F.smooth_l1_loss(z, h, reduction="none").mean(dim=(1, 2))


CASE = {
    "model": "JEPA",
    "inputs": ["float[B, 6, 12]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}
