"""What dp-lint knows about torch and opacus classes without importing them."""

from __future__ import annotations

# Layers that own parameters by default (Opacus hooks exactly these "trainable leaves").
LAYERS_WITH_PARAMETERS = frozenset(
    {
        "Linear", "Bilinear", "LazyLinear",
        "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
        "LazyConv1d", "LazyConv2d", "LazyConv3d",
        "Embedding", "EmbeddingBag",
        "LayerNorm", "GroupNorm", "RMSNorm",
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
        "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
        "PReLU",
        "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
        "MultiheadAttention",
        "Transformer", "TransformerEncoder", "TransformerDecoder",
        "TransformerEncoderLayer", "TransformerDecoderLayer",
        # opacus.layers
        "DPLSTM", "DPGRU", "DPRNN", "DPLSTMCell", "DPGRUCell", "DPRNNCell",
        "DPMultiheadAttention", "SequenceBias", "RNNLinear",
    }
)

# Normalisation layers whose parameters can be switched off by a keyword.
AFFINE_KEYWORD = {
    "LayerNorm": "elementwise_affine",
    "RMSNorm": "elementwise_affine",
    "GroupNorm": "affine",
    "BatchNorm1d": "affine", "BatchNorm2d": "affine", "BatchNorm3d": "affine",
    "SyncBatchNorm": "affine",
}
# InstanceNorm defaults to affine=False.
AFFINE_DEFAULT_OFF = frozenset({"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"})

# Layers that never own parameters: detaching their output cannot upset Opacus.
PARAMETER_FREE_LAYERS = frozenset(
    {
        "Identity", "Flatten", "Unflatten", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
        "AlphaDropout", "FeatureAlphaDropout",
        "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid",
        "Tanh", "Softmax", "Softmax2d", "LogSoftmax", "Softmin", "Softplus", "Softsign",
        "Hardtanh", "Hardswish", "Hardsigmoid", "Hardshrink", "Softshrink", "Tanhshrink",
        "Threshold", "GLU", "LogSigmoid",
        "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
        "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
        "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d",
        "FractionalMaxPool2d", "FractionalMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
        "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
        "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
        "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
        "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
        "CircularPad2d", "CircularPad3d", "ChannelShuffle", "CosineSimilarity", "PairwiseDistance",
        "LocalResponseNorm", "CrossMapLRN2d",
        "L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
        "KLDivLoss", "HuberLoss", "SmoothL1Loss", "CosineEmbeddingLoss", "MarginRankingLoss",
        "TripletMarginLoss", "CTCLoss", "PoissonNLLLoss", "GaussianNLLLoss", "SoftMarginLoss",
        "MultiLabelSoftMarginLoss", "MultiMarginLoss", "HingeEmbeddingLoss",
    }
)

CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})
# Containers built from copies of one layer given as first argument.
CLONING_CONTAINERS = frozenset({"TransformerEncoder", "TransformerDecoder"})

# Prefixes under which a capitalised name is a torch/opacus module class.
MODULE_NAMESPACES = ("torch.nn.", "opacus.layers.", "opacus.")

MODULE_BASES = frozenset(
    {
        "torch.nn.Module",
        "torch.nn.modules.module.Module",
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "pytorch_lightning.core.module.LightningModule",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
    }
)

# Methods of nn.Module that do not run the module: calling them is not a forward pass.
NON_FORWARD_METHODS = frozenset(
    {
        "parameters", "named_parameters", "buffers", "named_buffers", "children",
        "named_children", "modules", "named_modules", "state_dict", "load_state_dict",
        "train", "eval", "to", "cuda", "cpu", "half", "float", "double", "bfloat16", "type",
        "requires_grad_", "zero_grad", "apply", "register_buffer", "register_parameter",
        "register_module", "add_module", "register_forward_hook", "register_forward_pre_hook",
        "register_full_backward_hook", "register_backward_hook", "get_submodule",
        "get_parameter", "extra_repr", "share_memory", "append", "extend", "insert", "keys",
        "values", "items", "__len__", "reset_parameters", "_reset_parameters", "init_weights",
        "update", "pop", "clear", "to_empty", "set_extra_state",
    }
)

# Qualified names of context managers / decorators that disable gradient recording.
NO_GRAD = frozenset(
    {
        "torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
        "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode",
        "torch.autograd.inference_mode",
    }
)
ENABLE_GRAD = frozenset({"torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad"})
SET_GRAD_ENABLED = frozenset({"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"})

# Methods that return a tensor cut off from the autograd graph.
STOP_METHODS = frozenset({"detach", "detach_"})
# Attributes that expose the raw tensor without autograd history.
STOP_ATTRIBUTES = frozenset({"data"})
# Functions that return a detached copy of their first argument.
STOP_FUNCTIONS = frozenset({"torch.Tensor.detach", "torch.detach", "torch.Tensor.detach_"})

# Container methods that add their arguments' data to the receiver.
MUTATING_METHODS = frozenset({"append", "extend", "insert", "update", "add", "setdefault", "__setitem__", "copy_", "add_", "mul_"})


def torch_class_name(qualname: str | None) -> str | None:
    """`Linear` for `torch.nn.Linear`/`torch.nn.modules.linear.Linear`, `DPLSTM` for opacus."""
    if not qualname:
        return None
    for prefix in MODULE_NAMESPACES:
        if qualname.startswith(prefix):
            last = qualname.rsplit(".", 1)[-1]
            if last[:1].isupper():
                return last
    return None


def is_module_base(qualname: str) -> bool:
    if qualname in MODULE_BASES:
        return True
    name = torch_class_name(qualname)
    return name is not None and name not in {"Parameter", "Buffer", "UninitializedParameter"}
