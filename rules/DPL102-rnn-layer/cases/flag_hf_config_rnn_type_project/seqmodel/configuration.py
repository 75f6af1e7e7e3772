# Part of the multi-file case (see modeling.py): a Hugging Face-style configuration class whose
# __init__ stores its parameters, with defaults.


class TaggerConfig:
    model_type = "tagger"

    def __init__(self, vocab_size=50, hidden_size=16, rnn_type="LSTM", use_dp_rnn=False, num_labels=4, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.rnn_type = rnn_type
        self.use_dp_rnn = use_dp_rnn
        self.num_labels = num_labels
        self.extra = kwargs
