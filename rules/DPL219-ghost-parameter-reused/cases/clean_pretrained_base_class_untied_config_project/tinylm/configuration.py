# Part of the multi-file case (see train.py): an HF-style configuration whose `__init__` stores defaults.


class TinyConfig:
    def __init__(self, vocab_size=32, hidden_size=16, tie_word_embeddings=True, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.tie_word_embeddings = tie_word_embeddings
