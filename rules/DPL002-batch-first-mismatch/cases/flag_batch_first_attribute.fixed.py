# Mirrors an audio-visual fusion module (video frames attend to the audio frames of the same
# clip) that stores its layout as an attribute (`self.batch_first = batch_first`) and builds the
# attention from it. The default is False and the model is created without the argument, but both
# inputs are [batch, frames, features] and the engine (no make_private call here: Opacus'
# default) is batch_first=True: the attention mixes samples across the batch with no error.
# Fix: default `batch_first=True`.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class AudioVisualFusion(nn.Module):
    def __init__(self, dim=16, num_classes=5, batch_first=True):
        super().__init__()
        self.batch_first = batch_first
        self.video_proj = nn.Linear(20, dim)
        self.audio_proj = nn.Linear(12, dim)
        self.cross = DPMultiheadAttention(dim, 1, batch_first=self.batch_first)  # expect: DPL002
        self.head = nn.Linear(dim, num_classes)

    def forward(self, video, audio):
        q = self.video_proj(video)
        kv = self.audio_proj(audio)
        fused, _ = self.cross(q, kv, kv)
        return self.head(fused.mean(dim=1))


CASE = {
    "model": "AudioVisualFusion",
    "inputs": ["float[B, 6, 20]", "float[B, 6, 12]"],
    "runtime": "silent",
}
