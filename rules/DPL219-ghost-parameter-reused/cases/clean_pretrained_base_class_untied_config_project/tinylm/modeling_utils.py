# Part of the multi-file case (see train.py): a `PreTrainedModel`-style base class. `post_init()` ties the output
# embeddings to the input embeddings, through the getters each model overrides, as `transformers` does when
# `config.tie_word_embeddings` holds.
import torch.nn as nn


class TinyPreTrainedModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config

    def get_input_embeddings(self):
        raise NotImplementedError

    def get_output_embeddings(self):
        return None

    def post_init(self):
        self.tie_weights()

    def tie_weights(self):
        if self.config.tie_word_embeddings:
            output_embeddings = self.get_output_embeddings()
            if output_embeddings is not None:
                self._tie_or_clone_weights(output_embeddings, self.get_input_embeddings())

    def _tie_or_clone_weights(self, output_embeddings, input_embeddings):
        output_embeddings.weight = input_embeddings.weight
