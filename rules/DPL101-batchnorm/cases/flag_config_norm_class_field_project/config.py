# Part of the multi-file case (see train.py): the model configuration, a class among its fields.
from dataclasses import dataclass

import torch.nn as nn


@dataclass
class ModelConfig:
    in_features: int = 12
    hidden: int = 32
    norm_layer: type = nn.BatchNorm1d
