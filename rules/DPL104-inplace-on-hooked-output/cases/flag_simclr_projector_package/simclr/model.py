# SimCLR-style (Chen et al., 2020) encoder + MLP projector over two views, with a per-sample
# agreement loss (a cross-batch NT-Xent would mix samples, which per-sample clipping forbids). The projector's
# in-place ReLU (heads.py) modifies the first Linear's output, which under Opacus 1.6.0 is a view
# made by the backward hook: `RuntimeError: Output 0 of BackwardHookFunction is a view and is
# being modified inplace` at the first forward. Fix: `nn.ReLU(inplace=False)` in heads.py.
import torch.nn as nn
import torch.nn.functional as F

from simclr.backbone import SmallEncoder
from simclr.heads import mlp


class SimCLR(nn.Module):
    def __init__(self, proj_dim=8, temperature=0.5):
        super().__init__()
        self.encoder = SmallEncoder()
        self.projector = mlp(self.encoder.out_dim, 16, proj_dim)
        self.temperature = temperature

    def forward(self, x1, x2):
        z1 = F.normalize(self.projector(self.encoder(x1)), dim=1)
        z2 = F.normalize(self.projector(self.encoder(x2)), dim=1)
        return -(z1 * z2).sum(dim=1) / self.temperature


CASE = {
    "model": "SimCLR",
    "inputs": ["float[B, 3, 8, 8]", "float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "is a view and is being modified inplace",
}
