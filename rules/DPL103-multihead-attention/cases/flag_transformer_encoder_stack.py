# Mirrors the usual torch recipe for a Transformer encoder: one nn.TransformerEncoderLayer built
# as a template and handed to nn.TransformerEncoder, which deep-copies it `num_layers` times. Every
# copy holds an nn.MultiheadAttention that ModuleValidator refuses: make_private raises
# UnsupportedModuleError. Fix: ModuleValidator.fix(model) before make_private, or a block built
# on opacus.layers.DPMultiheadAttention.
import torch.nn as nn


class PatchTransformer(nn.Module):
    def __init__(self, patch_dim=12, dim=16, depth=2, num_classes=10):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, dim)
        layer = nn.TransformerEncoderLayer(dim, 1, 32, dropout=0.0, batch_first=True)  # expect: DPL103
        self.encoder = nn.TransformerEncoder(layer, num_layers=depth, enable_nested_tensor=False)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, patches):
        return self.head(self.encoder(self.patch_embed(patches)).mean(dim=1))


CASE = {
    "model": "PatchTransformer",
    "inputs": ["float[B, 9, 12]"],
    "runtime": "crash",
    "error": "UnsupportedModuleError",
}
