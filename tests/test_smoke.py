"""Unit tests of dp_lint.verify.runtime.smoke, the per-sample-gradient check under real Opacus."""

import pytest
from runtime_cases import require_opacus

require_opacus()

import torch  # noqa: E402
from torch import nn  # noqa: E402

from dp_lint.verify.runtime.smoke import (  # noqa: E402
    ModelError,
    check_model,
    make_inputs,
    parse_input_spec,
    pick_batch_sizes,
)

# --------------------------------------------------------------------------- input specs


def test_parse_float_spec():
    spec = parse_input_spec("float[B, 16]")
    assert spec.dtype == "float"
    assert spec.batch_dim == 0
    assert spec.shape(5) == (5, 16)


def test_parse_bounded_long_spec():
    spec = parse_input_spec("long[B, 7] < 50")
    assert (spec.dtype, spec.high, spec.shape(3)) == ("long", 50, (3, 7))


def test_parse_batch_in_the_middle():
    spec = parse_input_spec("float[7, B, 16]")
    assert spec.batch_dim == 1
    assert spec.shape(5) == (7, 5, 16)
    assert spec.fixed_dims == (7, 16)


@pytest.mark.parametrize(
    "bad",
    ["float[16]", "float[B, B]", "float[B, x]", "long[B, 7]", "float[B, 4] < 3", "half[B]", "float B, 4"],
)
def test_parse_rejects_bad_specs(bad):
    with pytest.raises(ValueError):
        parse_input_spec(bad)


def test_make_inputs_shapes_ranges_and_reproducibility():
    specs = ["float[B, 3, 8, 8]", "long[B, 7] < 50", "float[7, B, 16]"]
    images, tokens, seq = make_inputs(specs, 5, seed=1)
    assert images.shape == (5, 3, 8, 8) and images.dtype == torch.float32
    assert tokens.shape == (5, 7) and tokens.dtype == torch.int64
    assert int(tokens.min()) >= 0 and int(tokens.max()) < 50
    assert seq.shape == (7, 5, 16)
    again = make_inputs(specs, 5, seed=1)
    assert all(torch.equal(a, b) for a, b in zip((images, tokens, seq), again))


def test_batch_sizes_avoid_every_fixed_dimension():
    assert pick_batch_sizes(["float[B, 16]"]) == (5, 3)
    sizes = pick_batch_sizes(["float[5, B, 3]"])
    assert len(sizes) == 2 and len(set(sizes)) == 2
    assert not {5, 3} & set(sizes)


# --------------------------------------------------------------------------- verdicts


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x)


def test_plain_linear_is_ok_and_exact():
    result = check_model(Plain, ["float[B, 16]"])
    assert result.verdict == "ok", result.summary()
    assert result.error is None
    assert [(p.name, p.status) for p in result.parameters] == [("fc.weight", "ok"), ("fc.bias", "ok")]
    assert all(p.max_abs_error < 1e-5 for p in result.parameters)


def test_plain_linear_is_ok_with_sum_reduction():
    assert check_model(Plain, ["float[B, 16]"], loss_reduction="sum").verdict == "ok"


class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(50, 8)
        self.conv = nn.Conv2d(3, 4, 3)
        self.norm = nn.LayerNorm(8)

    def forward(self, tokens, images):
        return self.norm(self.tok(tokens)).mean(1), self.conv(images).flatten(1)


def test_embedding_conv_layernorm_are_ok():
    result = check_model(Embedder, ["long[B, 7] < 50", "float[B, 3, 8, 8]"])
    assert result.verdict == "ok", result.summary()


class SequenceFirst(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):  # x: [T, B, 16]
        return self.fc(x)


def test_sequence_first_input_with_matching_engine_is_ok():
    assert check_model(SequenceFirst, ["float[7, B, 16]"], batch_first=False).verdict == "ok"


def test_sequence_first_input_with_batch_first_engine_is_silent():
    result = check_model(SequenceFirst, ["float[7, B, 16]"], batch_first=True)
    assert result.verdict == "silent", result.summary()
    assert {p.status for p in result.parameters} == {"wrong-batch-dim"}


class DetachedTarget(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Linear(16, 8)
        self.target = nn.Linear(16, 8)  # trainable, but its output is only used detached

    def forward(self, x):
        return self.online(x) - self.target(x).detach()


def test_detached_trainable_submodule_crashes():
    result = check_model(DetachedTarget, ["float[B, 16]"])
    assert result.verdict == "crash", result.summary()
    assert "ValueError" in result.error
    assert "Per sample gradient is not initialized" in result.error
    statuses = {p.name: p.status for p in result.parameters}
    assert statuses == {"online.weight": "ok", "online.bias": "ok", "target.weight": "missing", "target.bias": "missing"}


class FrozenTarget(DetachedTarget):
    def __init__(self):
        super().__init__()
        self.target.requires_grad_(False)


def test_frozen_submodule_is_reported_frozen_and_ok():
    result = check_model(FrozenTarget, ["float[B, 16]"])
    assert result.verdict == "ok", result.summary()
    assert {p.name: p.status for p in result.parameters}["target.weight"] == "frozen"


class BatchMixer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x + x.mean(0, keepdim=True))  # every sample sees the whole batch


def test_mixing_samples_is_silent():
    result = check_model(BatchMixer, ["float[B, 16]"])
    assert result.verdict == "silent", result.summary()
    assert result.error is None
    assert {p.status for p in result.parameters} == {"mismatch"}


class BatchAttention(nn.Module):
    """Attention whose softmax runs over the batch dimension instead of the sequence."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(8, 24)

    def forward(self, x):  # x: [B, T, 8]
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        scores = torch.einsum("btd,ctd->tbc", q, k)  # scores between samples b and c
        return torch.einsum("tbc,ctd->btd", scores.softmax(-1), v)


def test_attention_over_the_batch_is_silent():
    assert check_model(BatchAttention, ["float[B, 6, 8]"]).verdict == "silent"


class ScalarLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 3)

    def forward(self, x, y):
        return nn.functional.cross_entropy(self.fc(x), y)  # mean over the batch


def test_scalar_output_is_the_loss():
    assert check_model(ScalarLoss, ["float[B, 16]", "long[B] < 3"]).verdict == "ok"


def test_custom_loss_is_used():
    def sum_loss(out):  # reduced by a sum over the batch
        return out.sum()

    assert check_model(Plain, ["float[B, 16]"], loss=sum_loss, loss_reduction="sum").verdict == "ok"
    # the same loss with the engine told "mean": per-sample gradients scaled by B, silently
    assert check_model(Plain, ["float[B, 16]"], loss=sum_loss, loss_reduction="mean").verdict == "silent"


class ForwardError(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        y = self.fc(x)
        y += 1  # in-place on a hooked module's output
        return y


def test_error_text_carries_the_exception_type():
    result = check_model(ForwardError, ["float[B, 16]"])
    assert result.verdict == "crash"
    assert result.error.startswith("RuntimeError: ")


class NeedsTwoSamples(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        if x.shape[0] < 2:
            raise RuntimeError("batch too small")
        return self.fc(x)


def test_a_model_that_cannot_take_one_sample_is_checked_through_the_batched_forward():
    result = check_model(NeedsTwoSamples, ["float[B, 16]"])
    assert (result.verdict, result.reference) == ("ok", "batched"), result.summary()


class AlwaysBroken(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x.view(-1, 15))  # wrong for every batch, with or without Opacus


def test_a_model_broken_without_opacus_is_not_an_opacus_verdict():
    with pytest.raises(ModelError, match="the model fails without Opacus"):
        check_model(AlwaysBroken, ["float[B, 16]"])


# --------------------------------------------------------------------------- ModuleValidator, as make_private runs it


class WithBatchNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.norm = nn.BatchNorm2d(4)

    def forward(self, x):
        return self.norm(self.conv(x)).flatten(1)


def test_module_validator_refusal_is_a_crash():
    result = check_model(WithBatchNorm, ["float[B, 3, 8, 8]"])
    assert result.verdict == "crash", result.summary()
    assert result.error.startswith("UnsupportedModuleError: ")
    assert "BatchNorm" in result.error
    assert result.parameters == []  # refused before anything ran


class BuiltInEvalMode(Plain):
    def __init__(self):
        super().__init__()
        self.eval()


def test_validation_can_be_skipped_like_a_bare_grad_sample_module():
    refused = check_model(BuiltInEvalMode, ["float[B, 16]"])
    assert refused.verdict == "crash" and "training mode" in refused.error
    assert check_model(BuiltInEvalMode, ["float[B, 16]"], validate=False).verdict == "ok"


class TorchRNN(nn.Module):
    """nn.RNN has no ModuleValidator entry: it passes validation and fails in Opacus' backward."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(8, 12, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[0]


def test_torch_rnn_passes_the_validator_but_crashes():
    result = check_model(TorchRNN, ["float[B, 6, 8]"])
    assert result.verdict == "crash", result.summary()
    assert not result.error.startswith("UnsupportedModuleError")


# --------------------------------------------------------------------------- DPMultiheadAttention forward


class SelfAttention(nn.Module):
    def __init__(self, heads=1, batch_first=True, **options):
        super().__init__()
        from opacus.layers import DPMultiheadAttention

        self.attn = DPMultiheadAttention(16, heads, batch_first=batch_first, **options)

    def forward(self, x):
        return self.attn(x, x, x)[0]


def _attention_entries(result):
    return [p for p in result.parameters if p.name.startswith("attn forward")]


def test_dp_attention_batch_first_one_head_matches_torch():
    result = check_model(lambda: SelfAttention(1, True), ["float[B, 7, 16]"])
    assert result.verdict == "ok", result.summary()
    [entry] = _attention_entries(result)
    assert entry.status == "ok" and entry.shape == (result.batch_size, 7, 16)
    assert entry.max_abs_error < 1e-5


@pytest.mark.parametrize("heads", [2, 4])
def test_dp_attention_batch_first_several_heads_is_silent(heads):
    result = check_model(lambda: SelfAttention(heads, True), ["float[B, 7, 16]"])
    assert result.verdict == "silent", result.summary()
    assert result.error is None
    [entry] = result.problems()  # the per-sample gradients themselves are exact
    assert entry.name == "attn forward (vs nn.MultiheadAttention)"
    assert entry.status == "forward-mismatch" and entry.max_abs_error > 0.1
    assert "forward-mismatch" in result.summary()


def test_dp_attention_sequence_first_several_heads_matches_torch():
    result = check_model(lambda: SelfAttention(4, False), ["float[7, B, 16]"], batch_first=False)
    assert result.verdict == "ok", result.summary()
    assert [p.status for p in _attention_entries(result)] == ["ok"]


@pytest.mark.parametrize("options", [{"add_bias_kv": True}, {"add_zero_attn": True, "bias": False}])
def test_dp_attention_twin_carries_the_configuration(options):
    result = check_model(lambda: SelfAttention(2, False, **options), ["float[7, B, 16]"], batch_first=False)
    assert result.verdict == "ok", result.summary()
    assert [p.status for p in _attention_entries(result)] == ["ok"]


def test_dp_attention_comparison_runs_without_dropout():
    from dp_lint.verify.runtime.smoke import _compare_attention

    layer = SelfAttention(2, False, dropout=0.5).attn
    x = torch.randn(7, 5, 16)
    [entry] = _compare_attention("attn", layer, [{"query": x, "key": x, "value": x}])
    assert entry.status == "ok", entry
    assert layer.dropout.p == 0.5  # the layer itself is left alone


class CrossAttention(nn.Module):
    """One layer called twice: self-attention, then cross-attention with keyword arguments."""

    def __init__(self):
        super().__init__()
        from opacus.layers import DPMultiheadAttention

        self.attn = DPMultiheadAttention(16, 2, batch_first=True)

    def forward(self, x, memory):
        h = self.attn(x, x, x)[0]
        return self.attn(h, key=memory, value=memory, need_weights=False)[0]


def test_every_call_of_an_attention_layer_is_compared():
    result = check_model(CrossAttention, ["float[B, 7, 16]", "float[B, 6, 16]"])
    entries = _attention_entries(result)
    assert len(entries) == 2 and {e.status for e in entries} == {"forward-mismatch"}
    assert result.verdict == "silent", result.summary()


class MismatchedCrossAttention(nn.Module):
    """Broken for every batch: queries and keys disagree on the batch size for this layout."""

    def __init__(self):
        super().__init__()
        from opacus.layers import DPMultiheadAttention

        self.attn = DPMultiheadAttention(16, 1)  # sequence-first, fed [B, 6, 16] and [B, 9, 16]

    def forward(self, q, kv):
        return self.attn(q, kv, kv)[0]


def test_a_batch_that_fails_without_opacus_too_is_a_model_error():
    with pytest.raises(ModelError, match="fails without Opacus"):
        check_model(MismatchedCrossAttention, ["float[B, 6, 16]", "float[B, 9, 16]"])


# --------------------------------------------------------------------------- random draws and fixed batch sizes


class Reparameterised(nn.Module):
    """A VAE's encoder with the reparameterisation trick: forward draws random numbers."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(16, 8)
        self.dec = nn.Linear(4, 16)

    def forward(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        return self.dec(mu + torch.randn_like(mu) * torch.exp(0.5 * logvar))


def test_random_draws_in_forward_are_checked_through_the_batched_forward():
    # A batch of one draws other numbers than the batch: the one-sample reference cannot match,
    # and a correct model must not be called silent for it.
    result = check_model(Reparameterised, ["float[B, 16]"])
    assert result.verdict == "ok", result.summary()
    assert result.reference == "batched"
    assert all(p.status == "ok" for p in result.parameters)


class NoisyBatchMixer(Reparameterised):
    def forward(self, x):
        return super().forward(x - x.mean(0, keepdim=True))  # parameter-free mixing before the first layer


def test_random_draws_do_not_hide_samples_mixed_before_a_layer():
    # Through the batched forward alone this mixing would go unseen (each sample's loss has the
    # gradient Opacus computes); the mixing check sees sample 0's output move with the others.
    result = check_model(NoisyBatchMixer, ["float[B, 16]"])
    assert result.verdict == "silent", result.summary()
    assert "depends on other samples" in (result.error or "")


def test_deterministic_models_keep_the_one_sample_reference():
    assert check_model(Plain, ["float[B, 16]"]).reference == "alone"


class FixedBatch(nn.Module):
    """Built for batches of 6 samples only (a padding tensor made for `batch_size` rows)."""

    def __init__(self, batch_size=6):
        super().__init__()
        self.batch_size = batch_size
        self.fc = nn.Linear(20, 2)

    def forward(self, x):
        return self.fc(torch.cat([x, torch.zeros(self.batch_size, 4)], dim=1))


def _batch_of(size):
    from dp_lint.verify.runtime.smoke import Batch

    return Batch([torch.randn(size, 16, generator=torch.Generator().manual_seed(1))], {}, size, 0)


def test_a_fixed_batch_size_model_crashes_under_poisson_sampling():
    from dp_lint.verify.runtime.smoke import check_batch

    result = check_batch(FixedBatch, _batch_of(6), varying_batches=True)
    assert result.verdict == "crash", result.summary()
    assert "Poisson sampling draws batches of varying size (it runs on 6)" in result.error


def test_a_fixed_batch_size_model_with_fixed_batches_is_checked_on_the_whole_batch():
    from dp_lint.verify.runtime.smoke import check_batch

    result = check_batch(FixedBatch, _batch_of(6), varying_batches=False)
    assert result.verdict == "ok", result.summary()
    assert (result.batch_size, result.reference) == (6, "batched")


def test_a_poisson_batch_of_another_size_is_told_from_a_broken_model():
    # The script's first Poisson batch held 5; the loader's batch size is 6.
    from dp_lint.verify.runtime.smoke import check_batch

    result = check_batch(FixedBatch, _batch_of(5), varying_batches=True, nominal_batch_size=6)
    assert result.verdict == "crash", result.summary()
    with pytest.raises(ModelError):  # without the loader's size nothing says the model runs at all
        check_batch(FixedBatch, _batch_of(5), varying_batches=True)
