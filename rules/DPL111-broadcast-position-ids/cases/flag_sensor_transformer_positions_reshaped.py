# Mirrors a time-series classifier: each time step's features go through an input projection, and
# the learned time embedding is looked up on `torch.arange(T)` and given its batch axis after the
# lookup (`self.time_embed(steps)[None]`, shape [1, T, D]). The lookup itself never sees a batch:
# Opacus gives `time_embed` T per-sample gradients instead of B, and optimizer.step() raises.
# (The fix must go before the lookup; dp-lint offers none for this shape.)
import torch
import torch.nn as nn


class SensorTransformer(nn.Module):
    def __init__(self, n_features=6, window=20, d_model=16, n_classes=5):
        super().__init__()
        self.input_proj = nn.Linear(n_features, d_model)
        self.time_embed = nn.Embedding(window, d_model)
        self.encoder = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, d_model), nn.GELU())
        self.classifier = nn.Linear(d_model, n_classes)

    def forward(self, x):
        steps = torch.arange(x.shape[1], device=x.device)
        h = self.input_proj(x) + self.time_embed(steps)[None]  # expect: DPL111
        return self.classifier(self.encoder(h).mean(dim=1))


CASE = {
    "model": "SensorTransformer",
    "inputs": ["float[B, 10, 6]"],
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}
