# Mirrors a cross-attention fusion module that imports DPMultiheadAttention under an alias and
# keeps its layout in `self.batch_first`, defaulting to True: video frames attend to the audio
# frames of the same clip, both [batch, frames, features], under make_private's default
# batch_first=True. Layer and engine agree: per-sample gradients are exact.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention as Attention


class AudioVisualFusion(nn.Module):
    def __init__(self, dim=16, num_classes=5, batch_first=True):
        super().__init__()
        self.batch_first = batch_first
        self.video_proj = nn.Linear(20, dim)
        self.audio_proj = nn.Linear(12, dim)
        self.cross = Attention(dim, 1, batch_first=self.batch_first)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, video, audio):
        q = self.video_proj(video)
        kv = self.audio_proj(audio)
        fused, _ = self.cross(q, kv, kv)
        return self.head(fused.mean(dim=1))


CASE = {
    "model": "AudioVisualFusion",
    "inputs": ["float[B, 6, 20]", "float[B, 9, 12]"],
    "runtime": "ok",
    "opacus": ">=1.5",  # on opacus < 1.5 DPMultiheadAttention(batch_first=True) crashes in torch.stack (DPL004)
}
