"""What dp-lint knows about torch and opacus classes without importing them."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
        # torch.optim.swa_utils.AveragedModel (torch 2.x): copies the parameters it is given
        "update_parameters",
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

# The parameters a torch layer registers under its own name (`Linear.weight`, `Linear.bias`), for
# layers Opacus computes per-sample gradients of through the layer's own call (a grad sampler).
LAYER_PARAMETERS: dict[str, frozenset[str]] = {
    **{name: frozenset({"weight", "bias"}) for name in (
        "Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
        "LayerNorm", "GroupNorm")},
    "Embedding": frozenset({"weight"}),
    "EmbeddingBag": frozenset({"weight"}),
    "RMSNorm": frozenset({"weight"}),
    "PReLU": frozenset({"weight"}),
}
# Tensor methods whose result carries no gradient of the tensor (shapes, fresh tensors, tests).
TENSOR_NO_GRADIENT_METHODS = frozenset({
    "size", "dim", "numel", "nelement", "stride", "type", "get_device", "is_floating_point", "is_complex",
    "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "data_ptr", "element_size",
})
# Functions whose result carries no gradient of their tensor argument (fresh tensors of its shape).
TENSOR_NO_GRADIENT_FUNCTIONS = frozenset({
    "torch.zeros_like", "torch.ones_like", "torch.empty_like", "torch.full_like", "torch.rand_like",
    "torch.randn_like", "torch.randint_like", "isinstance", "len", "type", "id",
})

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


# -- other libraries, read from their sources (each entry names the release it was read from) -----
# The layers ghost clipping computes per-sample gradient norms for (`@register_norm_sampler`, read from
# opacus 1.6.0 grad_sample/linear.py and embedding.py). Its forward hook raises `NotImplementedError:
# Parameter tying is not supported with Ghost Clipping` when a trainable parameter of one of them serves a
# second call in one forward pass; the test is `type(module) in NORM_SAMPLERS`, so subclasses do not count.
GHOST_NORM_SAMPLER_LAYERS = frozenset({"Linear", "Embedding"})

# A library module dp-lint knows nothing about is unknown: neither trainable nor frozen, so it
# never produces a finding. These tables say what is known.

TORCHVISION_READ = "torchvision 0.29.1 (torchvision/transforms/transforms.py, autoaugment.py, v2/)"

# torchvision.transforms classes that are nn.Modules owning no parameter (their tensors, such as
# LinearTransformation's matrix, are plain attributes). RandomApply holds other transforms and is
# left out; Compose is not an nn.Module.
PARAMETER_FREE_EXTERNAL_MODULES: dict[str, str] = {
    f"torchvision.transforms.{name}": TORCHVISION_READ
    for name in (
        "ConvertImageDtype", "Normalize", "Resize", "CenterCrop", "Pad", "RandomCrop",
        "RandomHorizontalFlip", "RandomVerticalFlip", "RandomPerspective", "RandomResizedCrop",
        "FiveCrop", "TenCrop", "LinearTransformation", "ColorJitter", "RandomRotation", "RandomAffine",
        "Grayscale", "RandomGrayscale", "RandomErasing", "GaussianBlur", "RandomInvert",
        "RandomPosterize", "RandomSolarize", "RandomAdjustSharpness", "RandomAutocontrast",
        "RandomEqualize", "ElasticTransform", "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix",
    )
}

# Functions of other libraries that freeze the module they are given (position of the module
# argument): `deactivate_requires_grad(self.momentum_encoder)` sets requires_grad=False on every
# parameter of its argument.
EXTERNAL_FREEZE_HELPERS: dict[str, tuple[int, str]] = {
    "lightly.models.utils.deactivate_requires_grad": (0, "lightly 1.5.x (lightly/models/utils.py)"),
    "lightly.models.deactivate_requires_grad": (0, "lightly 1.5.x (lightly/models/__init__.py re-export)"),
}

# Namespaces whose functions never freeze a module handed to them (a call into any other library
# with a module argument may: the module is then unknown).
NON_FREEZING_NAMESPACES = (
    "torch.", "opacus.", "copy.", "math.", "numpy.", "logging.", "warnings.", "typing.", "functools.",
    "itertools.", "collections.", "os.", "sys.", "json.", "re.",
)

TORCHVISION_MODELS_READ = "torchvision 0.29.1 (torchvision/models/*.py, default arguments)"

# torchvision classification model builders whose default model has BatchNorm2d layers (a
# `norm_layer=` argument, where the builder takes one, replaces them; dp-lint then does not know).
TORCHVISION_BATCHNORM_MODELS: dict[str, str] = {
    f"torchvision.models.{name}": TORCHVISION_MODELS_READ
    for name in (
        "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
        "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
        "densenet121", "densenet161", "densenet169", "densenet201",
        "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
        "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_s", "efficientnet_v2_m",
        "efficientnet_v2_l",
        "googlenet", "inception_v3", "maxvit_t", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
        "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
        "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_8gf", "regnet_y_16gf",
        "regnet_y_32gf", "regnet_y_128gf", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf",
        "regnet_x_3_2gf", "regnet_x_8gf", "regnet_x_16gf", "regnet_x_32gf",
        "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
        "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
    )
}
# torchvision classification builders without BatchNorm by default (they own parameters).
TORCHVISION_OTHER_MODELS: dict[str, str] = {
    f"torchvision.models.{name}": TORCHVISION_MODELS_READ
    for name in (
        "alexnet", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
        "squeezenet1_0", "squeezenet1_1", "swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b",
        "vgg11", "vgg13", "vgg16", "vgg19", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14",
    )
}


def torchvision_model(qualname: str) -> str | None:
    """`torchvision.models.resnet18` (also written `torchvision.models.resnet.resnet18`): the
    table key, or None when it is not a known torchvision classification builder."""
    if not qualname.startswith("torchvision.models."):
        return None
    key = "torchvision.models." + qualname.rsplit(".", 1)[-1]
    return key if key in TORCHVISION_BATCHNORM_MODELS or key in TORCHVISION_OTHER_MODELS else None


def external_module_owns_parameters(qualname: str) -> bool | None:
    """What the tables say about a module built by `qualname(...)` from another library: True
    (it owns parameters), False (parameter-free), None (unknown)."""
    if qualname.startswith("torchvision.transforms.") and (
        "torchvision.transforms." + qualname.rsplit(".", 1)[-1] in PARAMETER_FREE_EXTERNAL_MODULES
    ):  # also the same classes under torchvision.transforms.transforms / .v2 (no parameters there either)
        return False
    if torchvision_model(qualname) is not None:
        return True
    return None


def external_freeze_position(qualname: str) -> int | None:
    """The position of the module argument of a known external freeze helper, else None."""
    entry = EXTERNAL_FREEZE_HELPERS.get(qualname)
    return entry[0] if entry is not None else None


def may_freeze_argument(qualname: str) -> bool:
    """May a call of `qualname` (a function of another library) freeze a module handed to it?"""
    return not qualname.startswith(NON_FREEZING_NAMESPACES) and "." in qualname


# Functions that take a module without running it (no gradient-giving use): copies, EMA updates
# and freezes.
NO_GRADIENT_FUNCTIONS: dict[str, str] = {
    "copy.deepcopy": "python stdlib",
    "copy.copy": "python stdlib",
    "torch.optim.swa_utils.AveragedModel": "torch 2.13 (keeps a deepcopy of the module)",
    "lightly.models.utils.update_momentum": "lightly 1.5.x (lightly/models/utils.py: EMA of parameters)",
    "lightly.models.utils.deactivate_requires_grad": "lightly 1.5.x (lightly/models/utils.py)",
    "lightly.models.utils.activate_requires_grad": "lightly 1.5.x (lightly/models/utils.py)",
    "isinstance": "python builtin",
    "print": "python builtin",
    "id": "python builtin",
    "type": "python builtin",
}


def gives_no_gradient(qualname: str) -> bool:
    """Does a call of `qualname` take a module without running it?"""
    return qualname in NO_GRADIENT_FUNCTIONS


# -- what opacus' ModuleValidator.fix turns each layer into ------------------------------------------
OPACUS_VALIDATORS_READ = "opacus 1.6.0 (opacus/validators/*.py)"


@dataclass(frozen=True)
class ValidatorFix:
    """`ModuleValidator.fix` replaces a `layer` with `replacement`, carrying `kept` settings over."""

    layer: str
    replacement: str
    kept: tuple[str, ...]
    note: str
    source: str = OPACUS_VALIDATORS_READ


VALIDATOR_FIXES: dict[str, ValidatorFix] = {
    fix.layer: fix
    for fix in (
        *(ValidatorFix(name, "GroupNorm", ("num_features", "affine"),
                       "GroupNorm(math.gcd(32, C), C, affine=affine); with replace_bn_with_in=True an "
                       "InstanceNormNd(C) instead (not for SyncBatchNorm); with num_groups=G, GroupNorm(G, C)")
          for name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm")),
        *(ValidatorFix(name, name, ("num_features",), "a copy with track_running_stats=False")
          for name in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")),
        ValidatorFix("MultiheadAttention", "DPMultiheadAttention",
                     ("embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim", "vdim",
                      "batch_first"), "weights copied with load_state_dict"),
        ValidatorFix("LSTM", "DPLSTM", ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                                        "bidirectional"), "weights copied with load_state_dict"),
        ValidatorFix("GRU", "DPGRU", ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                                      "bidirectional", "proj_size"), "weights copied with load_state_dict"),
    )
}


def groupnorm_groups(num_features: int) -> int:
    """The number of groups of the GroupNorm that ModuleValidator.fix puts for BatchNorm(C)."""
    return math.gcd(32, num_features)


# torch layers holding nn.MultiheadAttention submodules that take the layer's head count and
# batch_first (torch 2.13, torch/nn/modules/transformer.py): after ModuleValidator.fix they hold
# DPMultiheadAttention with those settings. (keyword, position, default) of the head count.
ATTENTION_HOLDERS: dict[str, tuple[str, int, int | None]] = {
    "MultiheadAttention": ("num_heads", 1, None),
    "TransformerEncoderLayer": ("nhead", 1, None),
    "TransformerDecoderLayer": ("nhead", 1, None),
    "Transformer": ("nhead", 1, 8),
}
