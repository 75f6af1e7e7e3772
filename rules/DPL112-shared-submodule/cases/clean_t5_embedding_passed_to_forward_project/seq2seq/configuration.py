class MiniT5Config:
    model_type = "mini-t5"

    def __init__(self, vocab_size=50, d_model=16, d_ff=32, num_layers=1, dropout_rate=0.0, **kwargs):
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.d_ff = d_ff
        self.num_layers = num_layers
        self.dropout_rate = dropout_rate
        for key, value in kwargs.items():
            setattr(self, key, value)
