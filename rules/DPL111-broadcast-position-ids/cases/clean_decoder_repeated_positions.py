# A seq2seq-style decoder whose positions are repeated over the batch (`.repeat(bsz, 1)`, shape
# [B, T]) before the lookup, as in fairseq's learned positional embeddings: exact per-sample
# gradients under Opacus (measured, also with ghost clipping).
import torch
import torch.nn as nn


class DecoderEmbeddings(nn.Module):
    def __init__(self, vocab=50, dim=16, max_positions=16):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.embed_positions = nn.Embedding(max_positions, dim)
        self.out = nn.Linear(dim, vocab)

    def forward(self, prev_output_tokens):
        bsz, seq_len = prev_output_tokens.size()
        positions = torch.arange(seq_len, device=prev_output_tokens.device).unsqueeze(0).repeat(bsz, 1)
        x = self.embed_tokens(prev_output_tokens) + self.embed_positions(positions)
        return self.out(x[:, -1])


CASE = {
    "model": "DecoderEmbeddings",
    "inputs": ["long[B, 12] < 50"],
    "runtime": "ok",
}
