"""The version table: every Opacus behaviour dp-lint depends on, the releases it holds for, the
issue or PR that changed it, and what was measured on each release.

Every row was measured with torch 2.13.0 (CPU) on the releases in `MEASURED_RELEASES`, by the
probes in `scripts/measure_versions/probes.py` (`probe = "probes:<name>"`) or by running a rule's
catalogue cases under that release (`probe = "cases:<rule folder>"`). `tests/versions/` re-runs the
probes on the installed release and fails when an outcome disagrees with this table; CI runs them
on one release of each minor line (see `.ci/run`).

Rules name the behaviours their findings depend on (`Rule.opacus_behaviours`); the lint engine
drops a rule's findings on a release where none of its behaviours holds, and `check --verify`
does not confirm a finding with a run on such a release. This module imports nothing of Opacus:
the configuration stage sits below every analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dp_lint.config.opacus_version import parse_version

# One release per minor line that installs with torch 2.13 (the latest patch of each), plus the
# 1.5 patches where a behaviour changed. Older lines (1.3 and below) were not measured.
MEASURED_RELEASES = ("1.4.1", "1.5", "1.5.1", "1.5.2", "1.5.3", "1.5.4", "1.6.0")
NEWEST_MEASURED = MEASURED_RELEASES[-1]

_CLAUSE_RE = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([0-9][0-9.]*)\s*$")


@dataclass(frozen=True)
class Behaviour:
    """A version-dependent Opacus behaviour.

    key: the name rules use. summary: what happens. holds: the releases it holds for, as
    comma-separated clauses (`"<1.5"`, `">=1.5,<=1.6.0"`). changed_by: the issue or PR that
    introduced or removed it. measured: (release, outcome) pairs as the probe reports them.
    probe: how to re-measure it. when_unknown: what rules assume when the version is unknown
    (True: the behaviour holds, because the newest release has it). An outcome is "ok" exactly on
    the releases where a failure does not hold (where a capability does, `ok_where_it_holds`).
    """

    key: str
    summary: str
    holds: str
    changed_by: str
    measured: tuple[tuple[str, str], ...]
    probe: str
    when_unknown: bool
    # A capability rather than a failure: its probe reports "ok" where it holds (ghost clipping's API).
    ok_where_it_holds: bool = False

    def holds_for(self, version: str | None) -> bool:
        """Whether the behaviour holds on `version` (unknown or unparsable: `when_unknown`)."""
        result = in_range(version, self.holds)
        return self.when_unknown if result is None else result

    def outcome_on(self, release: str) -> str | None:
        return dict(self.measured).get(release)

    def expected_ok(self, release: str) -> bool:
        """Whether the probe should report "ok" on `release`, from the range alone."""
        return bool(in_range(release, self.holds)) == self.ok_where_it_holds


def in_range(version: str | None, spec: str) -> bool | None:
    """Whether `version` satisfies every clause of `spec` (`"<1.5"`, `">=1.5,<=1.6.0"`, `""`: any).
    None when the version is unknown or does not parse. Versions compare numerically with
    missing parts as 0 (`1.5` == `1.5.0`)."""
    parsed = parse_version(version) if version else None
    if parsed is None:
        return None
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = _CLAUSE_RE.match(clause)
        if match is None:
            raise ValueError(f"not a version range clause: {clause!r} (in {spec!r})")
        operator, bound_text = match.groups()
        left, right = _padded(parsed, parse_version(bound_text) or ())
        ok = {
            "<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right,
            "==": left == right, "!=": left != right,
        }[operator]
        if not ok:
            return False
    return True


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def representative_release(spec: str) -> str | None:
    """The newest measured release inside `spec` (what a catalogue case with that range is
    checked and run against), or None when no measured release is inside it."""
    inside = [release for release in MEASURED_RELEASES if in_range(release, spec)]
    return inside[-1] if inside else None


_STACK = "crash: RuntimeError: stack expects each tensor to be equal size"
_INPLACE = "crash: RuntimeError: Output 0 of BackwardHookFunction is a view and is being modified inplace"
_MHA_WRONG = "wrong: output off nn.MultiheadAttention by 0.51"
_UNPICKLING = "crash: UnpicklingError: Weights only load failed"
_NO_CRITERION = "unsupported: TypeError: DPOptimizer.__init__() got an unexpected keyword argument 'criterion'"
_0X = "crash: TypeError: PrivacyEngine.__init__() got an unexpected keyword argument 'batch_size'"
_NO_WRAP_MODEL = "crash: TypeError: PrivacyEngine.make_private() got an unexpected keyword argument 'wrap_model'"
_SCHEDULER_IGNORED = "wrong: the update after scheduler.step() is 0.99x the first (expected 0.1x); inner lr 1"


def _on(outcomes: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((release, outcomes[release]) for release in MEASURED_RELEASES if release in outcomes)


def _every(outcome: str) -> tuple[tuple[str, str], ...]:
    return tuple((release, outcome) for release in MEASURED_RELEASES)

# The releases the catalogue cases ran on for the behaviours that hold on every 1.x release.
_CATALOGUE_RELEASES = ("1.4.1", "1.5.4", "1.6.0")


def _on_every_release(key: str, summary: str, rule: str, outcome: str,
                      changed_by: str = "none (every 1.x release measured)") -> Behaviour:
    """A behaviour of every 1.x release, measured by running `rule`'s catalogue cases on each."""
    return Behaviour(key=key, summary=summary, holds=">=1.0", changed_by=changed_by,
                     measured=_on({release: outcome for release in _CATALOGUE_RELEASES}),
                     probe=f"cases:{rule}", when_unknown=True)


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        key="dpmha-batch-first-stack-crash",
        summary="`DPMultiheadAttention(batch_first=True)` under a batch-first engine: its internal linear "
                "layers still see sequence-first tensors, and `optimizer.step()` fails in `torch.stack` "
                "(`RuntimeError: stack expects each tensor to be equal size`), for one head as for several",
        holds="<1.5",
        changed_by="opacus issue #650, fixed by PR #651 (released in 1.5)",
        measured=_on({"1.4.1": _STACK, "1.5": "ok", "1.5.1": "ok", "1.5.2": "ok", "1.5.3": "ok", "1.5.4": "ok",
                      "1.6.0": "ok"}),
        probe="probes:dpmha-batch-first-engine-1-head",
        when_unknown=False,
    ),
    Behaviour(
        key="dpmha-batch-first-multihead-forward",
        summary="`DPMultiheadAttention(batch_first=True)` with `num_heads > 1` computes a wrong forward "
                "output (heads not moved back before the output projection; ~0.5 off "
                "`nn.MultiheadAttention`); one head is exact",
        holds=">=1.5,<=1.6.0",
        changed_by="introduced by PR #651 (1.5, the batch_first fix of issue #650); not fixed in 1.6.0",
        measured=_on({"1.4.1": "ok", "1.5": _MHA_WRONG, "1.5.1": _MHA_WRONG, "1.5.2": _MHA_WRONG, "1.5.3": _MHA_WRONG,
                      "1.5.4": _MHA_WRONG, "1.6.0": _MHA_WRONG}),
        probe="probes:dpmha-batch-first-forward-2-heads",
        when_unknown=True,
    ),
    Behaviour(
        key="inplace-after-trainable-layer",
        summary="an in-place op on the direct output of a layer with trainable parameters "
                "(`Conv2d -> ReLU(inplace=True)`) raises `RuntimeError: Output 0 of BackwardHookFunction is a "
                "view and is being modified inplace` at forward time (Opacus' full backward hooks)",
        holds=">=1.5.4",
        changed_by="PR #720 (register_backward_hook -> register_full_backward_hook, released in 1.5.4; "
                   "requested in issue #652)",
        measured=_on({"1.4.1": "ok", "1.5": "ok", "1.5.1": "ok", "1.5.2": "ok", "1.5.3": "ok", "1.5.4": _INPLACE,
                      "1.6.0": _INPLACE}),
        probe="probes:inplace-after-trainable-layer",
        when_unknown=True,
    ),
    Behaviour(
        key="inplace-linear-output-old-hooks",
        summary="before 1.5.4 (non-full backward hooks), a `Linear` output modified in place loses its "
                "per-sample gradient: `ValueError: Per sample gradient is not initialized` at step(); "
                "convolution outputs modified in place train with exact per-sample gradients there",
        holds="<1.5.4",
        changed_by="PR #720 (full backward hooks, 1.5.4) turned it into the forward-time error",
        measured=_on({"1.4.1": "Linear flag cases crash at step()", "1.5.2": "Linear flag cases crash at step()",
                      "1.5.3": "Linear flag cases crash at step()",
                      "1.5.4": "no: the forward-time error instead (inplace-after-trainable-layer)",
                      "1.6.0": "no: the forward-time error instead (inplace-after-trainable-layer)"}),
        probe="cases:DPL104-inplace-on-hooked-output",
        when_unknown=False,
    ),
    Behaviour(
        key="lr-scheduler-after-load-state-dict",
        summary="after `optimizer.load_state_dict(...)` on a `DPOptimizer` (resuming from a checkpoint), an LR "
                "scheduler changes the `DPOptimizer`'s `param_groups` but the wrapped optimizer keeps its "
                "own: the learning rate never changes, silently",
        holds="<1.5.2",
        changed_by="PR #660 (DPOptimizer.param_groups became a property of the original optimizer, released in "
                   "1.5.2); the same trap with Accelerate: microsoft/dp-transformers#43",
        measured=_on({"1.4.1": _SCHEDULER_IGNORED, "1.5": _SCHEDULER_IGNORED, "1.5.1": _SCHEDULER_IGNORED,
                      "1.5.2": "ok", "1.5.3": "ok", "1.5.4": "ok", "1.6.0": "ok"}),
        probe="probes:lr-scheduler-after-load-state-dict",
        when_unknown=False,
    ),
    Behaviour(
        key="ghost-clipping",
        summary="ghost clipping's `make_private(..., grad_sample_mode=\"ghost\", criterion=...)` API (4 return "
                "values, the loss through the returned criterion) exists, and one logical step through "
                "`BatchMemoryManager` stays within the clipping bound (probe: C=1, lr 0.1, noise 0, two physical "
                "batches); 1.5-1.5.2 had ghost mode without this API (not measured in that older form)",
        holds=">=1.5.3",
        changed_by="PR #668 (the criterion/4-value interface, released in 1.5.3)",
        measured=_on({"1.4.1": "unsupported: TypeError: PrivacyEngine.make_private() got an unexpected keyword argument 'criterion'",
                      "1.5": _NO_CRITERION, "1.5.1": _NO_CRITERION, "1.5.2": _NO_CRITERION, "1.5.3": "ok", "1.5.4": "ok",
                      "1.6.0": "ok"}),
        probe="probes:ghost-clipping-with-batch-memory-manager",
        when_unknown=True,
        ok_where_it_holds=True,
    ),
    Behaviour(
        key="opacus-0x-api",
        summary="the Opacus 0.x API raises: `PrivacyEngine(model, batch_size=..., sample_size=...)` a `TypeError`, "
                "`engine.attach(optimizer)` an `AttributeError`, the removed modules `opacus.dp_model_inspector` "
                "and `opacus.utils.module_modification` an `ImportError` (replaced by `make_private` and "
                "`ModuleValidator`)",
        holds=">=1.0",
        changed_by="opacus 1.0 (PrivacyEngine.make_private)",
        measured=_every(_0X),
        probe="probes:opacus-0x-attach-api",
        when_unknown=True,
    ),
    Behaviour(
        key="module-validator-fix-unpickling-error",
        summary="`ModuleValidator.fix` fails with torch >= 2.6 (`UnpicklingError: Weights only load failed`: "
                "it clones the model through `torch.load`, whose default became `weights_only=True`)",
        holds="<1.5.3",
        changed_by="torch 2.6 changed torch.load's default; opacus 1.5.3's clone_module passes weights_only=False",
        measured=_on({"1.4.1": _UNPICKLING, "1.5": _UNPICKLING, "1.5.1": _UNPICKLING, "1.5.2": _UNPICKLING,
                      "1.5.3": "ok", "1.5.4": "ok", "1.6.0": "ok"}),
        probe="probes:module-validator-fix",
        when_unknown=False,
    ),
    # What the rules without a version-specific behaviour rely on: measured by running each rule's
    # catalogue cases (flag cases fail as CASE says, clean cases are exact) on every listed release.
    _on_every_release(
        "stop-gradient-breaks-grad-sample",
        "a trainable module whose output is detached (or otherwise gets no gradient) leaves its "
                "`grad_sample` unset: `ValueError: Per sample gradient is not initialized` at step(), or "
                "its per-sample gradients are paired with the wrong activations",
        "DPL001-detach-on-trainable-output", "flag cases crash",
        changed_by="none (Opacus' per-sample gradient hooks, every 1.x release measured)",
    ),
    _on_every_release(
        "batch-first-global-setting",
        "the engine's `batch_first` is one global setting for every layer's per-sample gradients; a "
                "layer with the other layout mixes samples silently or fails in `torch.stack`",
        "DPL002-batch-first-mismatch", "flag cases fail",
        changed_by="none (opacus issue #158; every 1.x release measured)",
    ),
    _on_every_release(
        "shared-submodule-hooked-per-parent",
        "one trainable module registered under two parents (`self.cpe1` handed to a child that "
                "stores it) gets Opacus' hooks once per registration: its `grad_sample` is a multiple of the "
                "true per-sample gradient (2x with two parents, 3x with three), silently",
        "DPL112-shared-submodule", "flag cases silent (grad_sample 2x)",
    ),
    _on_every_release(
        "trainable-module-without-gradient",
        "a trainable parameter that no backward reaches (module unused or only called under "
                "`no_grad`) has no `grad_sample`: `ValueError: Per sample gradient is not initialized` at step()",
        "DPL003-trainable-module-without-gradient", "flag cases crash",
    ),
    _on_every_release(
        "validator-refuses-batchnorm",
        "`make_private`'s validator refuses BatchNorm/SyncBatchNorm and InstanceNorm with running "
                "stats (they mix samples)",
        "DPL101-batchnorm", "flag cases crash",
    ),
    _on_every_release(
        "frozen-batchnorm-mixes-samples",
        "a BatchNorm without trainable parameters (frozen, or `affine=False`) passes `make_private`'s "
                "validator and `ModuleValidator.fix` (they only check trainable modules); in train mode its batch "
                "statistics mix samples: per-sample gradients of the layers around it are silently wrong",
        "DPL101-batchnorm", "frozen/affine=False flag cases silent",
    ),
    _on_every_release(
        "validator-refuses-rnn",
        "`nn.LSTM`/`nn.GRU`/`nn.RNN`/`nn.LSTMCell` have no per-sample gradient sampler "
                "(`DPLSTM`/`DPGRU`/`DPRNN` replace them)",
        "DPL102-rnn-layer", "flag cases crash",
        changed_by="none (every 1.x release measured; the crash text differs: 1.4.1 fails in the "
                   "functorch fallback, 1.5+ refuses the module)",
    ),
    _on_every_release(
        "loss-reduction-scales-grad-samples",
        "Hooks mode scales each per-sample gradient by the batch size under `loss_reduction=\"mean\"`: a loss "
                "summed over the batch makes it B x the true one before clipping (no error; privacy holds, the "
                "update is wrong); ghost mode asserts on the mismatch (>=1.5.3)",
        "DPL105-loss-reduction-mismatch", "hooks flag cases silent",
    ),
    _on_every_release(
        "dp-data-loader-replaces-the-loader",
        "`make_private` returns a new (Poisson-sampling) data loader and accounts for its sample rate: a loop "
                "that keeps iterating the original loader trains on batches the accountant does not describe "
                "(no error; the reported epsilon is wrong)",
        "DPL205-original-loader-after-make-private", "flag cases silent",
    ),
    _on_every_release(
        "parameter-outside-module-call",
        "a submodule's parameter used outside the submodule's call (`h @ self.emb.weight.t()`, "
                "`self.pos.weight[:T]`) gets per-sample gradients only from that module's hooks: the direct use "
                "is missing (silently wrong) when the module is also called, and there is no `grad_sample` at all "
                "(`ValueError: Per sample gradient is not initialized` at step()) when it is not",
        "DPL106-parameter-outside-module", "flag cases silent or crash",
    ),
    _on_every_release(
        "grad-scaler-scales-grad-samples",
        "a torch `GradScaler` scaling the loss of a private model multiplies every per-sample gradient by the "
                "loss scale (65536 at first) before clipping, and its `unscale_` is lost (DPOptimizer recomputes "
                "`p.grad` from `grad_sample`): no error; privacy holds, the update is wrong",
        "DPL206-loss-scaler-with-dp-optimizer", "flag cases silent",
    ),
    Behaviour(
        key="validator-fix-returns-a-copy",
        summary="`ModuleValidator.fix` returns a deep copy of the model (even when nothing needs fixing): an "
                "optimizer built before it holds parameters the fixed model does not have, and `make_private` "
                "raises `ValueError: Module parameters are different than optimizer Parameters`",
        holds=">=1.0",
        changed_by="none (1.4.1-1.5.2 on torch >= 2.6: ModuleValidator.fix itself fails first, see "
                   "module-validator-fix-unpickling-error)",
        measured=_on({"1.4.1": _UNPICKLING + " (in ModuleValidator.fix, before make_private)",
                      "1.5.4": "flag cases crash", "1.6.0": "flag cases crash"}),
        probe="cases:DPL207-validator-fix-after-optimizer",
        when_unknown=True,
    ),
    Behaviour(
        key="validator-fix-groupnorm-collapse",
        summary="`ModuleValidator.fix` turns `BatchNorm1d(C)` into `GroupNorm(gcd(32, C), C)`; with C dividing 32 "
                "that is `GroupNorm(C, C)`, which on `[batch, C]` features normalises single values: the layer "
                "outputs its bias whatever the input (output std ~1e-5) and the layers before it get no gradient "
                "(~3e-6 against ~0.8), silently",
        holds=">=1.0",
        changed_by="none (opacus issue #567; `fix(model, num_groups=G)` exists, the default is unchanged; "
                   "1.4.1-1.5.2 on torch >= 2.6: ModuleValidator.fix itself fails first, see "
                   "module-validator-fix-unpickling-error)",
        measured=_on({"1.4.1": _UNPICKLING + " (in ModuleValidator.fix; with torch.load's old default it "
                               "gives GroupNorm(16, 16): output std 9.3e-06)",
                      "1.5.4": "flag cases silent", "1.6.0": "flag cases silent"}),
        probe="cases:DPL107-validator-fix-groupnorm-collapse",
        when_unknown=True,
    ),
    _on_every_release(
        "make-private-twice-adds-hooks-twice",
        "`make_private` (and `GradSampleModule`) on a model an earlier call already hooked raises `ValueError: "
                "Trying to add hooks twice to the same model`, also with a new PrivacyEngine; on the returned "
                "GradSampleModule, or after its `remove_hooks()`, it works",
        "DPL208-make-private-twice-on-one-model", "flag cases crash",
    ),
    _on_every_release(
        "eval-mode-breaks-make-private-and-hooks",
        "a model in eval mode: `make_private` raises `Model needs to be in training mode`; switched to eval "
                "after it, the hooks record no activations and the next backward raises (`IndexError: pop from "
                "empty list`, or `No activations detected` before any training step)",
        "DPL209-model-in-eval-mode", "flag cases crash",
    ),
    _on_every_release(
        "unconsumed-forward-breaks-next-step",
        "a forward of the private model in training mode with grad enabled that no backward consumes leaves its "
                "activations behind: the next `step()` raises `Per sample gradient is not initialized` (ghost "
                "mode: the next forward raises `Parameter tying is not supported with Ghost Clipping`)",
        "DPL210-forward-without-backward", "flag cases crash",
    ),
    _on_every_release(
        "poisson-forbids-grad-accumulation",
        "with Poisson sampling (`make_private*`'s default) a backward that finds an earlier backward's per-sample "
                "gradients (no `zero_grad()` in between) raises `Poisson sampling is not compatible with grad "
                "accumulation` (hooks and functorch modes; two backward calls on one forward with "
                "`retain_graph=True`: `pop from empty list`)",
        "DPL211-several-backward-per-step", "flag cases crash",
    ),
    _on_every_release(
        "module-zero-grad-keeps-summed-grad",
        "the private model's `zero_grad()` clears `p.grad_sample` but not the `p.summed_grad` the DP optimizer's "
                "step marked as processed: with no `optimizer.zero_grad()` the second step raises `Gradients "
                "haven't been cleared since the last optimizer step` (hooks and functorch modes, with or without "
                "Poisson sampling; ghost mode trains)",
        "DPL213-model-zero-grad-only", "flag cases crash",
    ),
    _on_every_release(
        "epsilon-grows-past-the-planned-epochs",
        "`make_private_with_epsilon` calibrates the noise to spend `target_epsilon` in `epochs * len(data_loader)` "
                "steps; more steps raise nothing, and the accountant's ε ends above the target",
        "DPL215-privacy-horizon-exceeded", "flag cases silent",
    ),
    _on_every_release(
        "unfrozen-layer-has-no-hooks",
        "a layer frozen when `make_private` hooks the model gets no hooks: unfrozen later while its parameters are in "
                "the DP optimizer, the next step raises `Per sample gradient is not initialized` (hooks and "
                "functorch modes; ghost mode instead raises `'Parameter' object has no attribute '_norm_sample'` "
                "for a parameter frozen after `make_private`)",
        "DPL216-requires-grad-changed-after-make-private", "flag cases crash",
    ),
    _on_every_release(
        "replaced-layer-stays-in-optimizer",
        "a trainable submodule (or an `nn.Parameter`) replaced after the optimizer was built leaves the old "
                "parameters in the optimizer: `make_private` raises `Module parameters are different than optimizer "
                "Parameters`; after `make_private` the next step raises `Per sample gradient is not initialized` "
                "(hooks, functorch; ghost: `_norm_sample`), or `_forward_counter` for a replaced parameter",
        "DPL218-submodule-replaced-after-optimizer", "flag cases crash",
    ),
    _on_every_release(
        "unheld-trainable-layer-accumulates",
        "a trainable layer of the private model that gets gradients but is not in the DP optimizer keeps its "
                "per-sample gradients (the optimizer's `zero_grad()` clears only the parameters it holds): under "
                "Poisson sampling the second backward raises `Poisson sampling is not compatible with grad "
                "accumulation` (hooks and functorch modes; ghost mode and `poisson_sampling=False` train)",
        "DPL220-trainable-layer-outside-optimizer", "flag cases crash",
    ),
    Behaviour(
        key="ghost-parameter-serves-two-calls",
        summary="in ghost mode a trainable `nn.Linear` or `nn.Embedding` whose parameters serve a second call in "
                "one forward pass (the layer called twice, a block holding it called twice, or its weight tied to "
                "another such layer's) makes that forward raise `NotImplementedError: Parameter tying is not "
                "supported with Ghost Clipping`; hooks mode trains the same models",
        holds=">=1.5.3",
        changed_by="ghost clipping's criterion API (PR #668, 1.5.3); 1.4.1 has no ghost mode",
        measured=_on({"1.4.1": "unsupported: no ghost clipping", "1.5.4": "flag cases crash",
                      "1.6.0": "flag cases crash"}),
        probe="cases:DPL219-ghost-parameter-reused",
        when_unknown=True,
    ),
    Behaviour(
        key="ghost-accumulation-counts-one-batch",
        summary="in ghost mode several backward passes before one `step()` accumulate without an error, but the "
                "accountant counts each step at the sample rate of one batch: the ε `get_epsilon` reports is too "
                "small (hooks mode without Poisson sampling counts `accumulated_iterations`); on 1.5.4 dividing "
                "the ghost loss by the accumulation count raises `TypeError`",
        holds=">=1.5.3",
        changed_by="ghost clipping's criterion API (PR #668, 1.5.3); 1.4.1 has no ghost mode",
        measured=_on({"1.4.1": "unsupported: no ghost clipping", "1.5.4": "flag cases silent",
                      "1.6.0": "flag cases silent"}),
        probe="cases:DPL217-ghost-accumulation-under-accounted",
        when_unknown=True,
    ),
    _on_every_release(
        "embedding-grad-sampler-ignores-padding-idx",
        "Opacus' `nn.Embedding` grad sampler (hooks and ew modes) ignores `padding_idx` and "
                "`scale_grad_by_freq`: the padding row gets per-sample gradients PyTorch keeps at zero, and "
                "token counts do not scale them; no error (functorch mode is exact)",
        "DPL108-embedding-padding-idx", "flag cases silent",
    ),
    _on_every_release(
        "trainable-layer-with-buffers-refused",
        "`GradSampleModule` (every `grad_sample_mode` but `\"ew\"`) refuses a module that owns trainable "
                "parameters and holds a buffer, its submodules' included (`NotImplementedError: Model contains a "
                "trainable layer ...`, at `make_private`)",
        "DPL109-trainable-layer-with-buffers", "flag cases crash at make_private",
    ),
    _on_every_release(
        "embedding-ids-without-batch-dimension",
        "A trainable `nn.Embedding` looked up on ids without a batch dimension (`torch.arange(T)`, or "
                "`[1, T]` from `.unsqueeze(0)` or a registered `position_ids` buffer): its per-sample gradients "
                "get T (or 1) rows instead of B, and `optimizer.step()` raises `RuntimeError: stack expects each "
                "tensor to be equal size` (hooks and functorch; ghost clipping in backward; ew mode in forward); "
                "1-D ids with T equal to the batch size are silently wrong",
        "DPL111-broadcast-position-ids", "flag cases crash",
    ),
    _on_every_release(
        "poisson-batches-vary-in-size",
        "`make_private`'s default Poisson sampling (`poisson_sampling=True`) gives batches of random size "
                "around the loader's `batch_size`: a model shape fixed to that size crashes the forward at the "
                "first batch of another size (fixed-size batches with `poisson_sampling=False` and "
                "`drop_last=True` run)",
        "DPL110-fixed-batch-size", "flag cases crash at the first batch",
    ),
    Behaviour(
        key="wrap-model-false-returns-hooks",
        summary="`make_private(..., wrap_model=False)` returns a `GradSampleHooks` object first, not the model "
                "(the hooks sit on the original module, which keeps training): calling it raises `TypeError: "
                "'GradSampleHooks' object is not callable`, and `.train()`/`.eval()`/`.parameters()`/`.to()` "
                "raise `AttributeError`",
        holds=">=1.6",
        changed_by="opacus 1.6.0 (the wrap_model option, GradSampleHooks); 1.5.4 takes the keyword through "
                   "`**kwargs` and ignores it (the first result is a GradSampleModule)",
        measured=_on({"1.4.1": _NO_WRAP_MODEL.replace("crash:", "unsupported:"), "1.5.4": "ok",
                      "1.6.0": "crash: TypeError: 'GradSampleHooks' object is not callable"}),
        probe="probes:wrap-model-false-result-as-model",
        when_unknown=True,
    ),
    Behaviour(
        key="make-private-rejects-wrap-model",
        summary="`make_private` has no `wrap_model` parameter and no `**kwargs`: `wrap_model=...` raises "
                "`TypeError: PrivacyEngine.make_private() got an unexpected keyword argument 'wrap_model'`",
        holds="<1.5",
        changed_by="measured on 1.4.1 (raises) and 1.5.4 (accepted through `**kwargs`); 1.5-1.5.3 not measured",
        measured=_on({"1.4.1": _NO_WRAP_MODEL, "1.5.4": "ok", "1.6.0": "ok"}),
        probe="probes:wrap-model-false-keyword",
        when_unknown=False,
    ),
    Behaviour(
        key="validator-refuses-multihead-attention",
        summary="`nn.MultiheadAttention` (also inside `nn.Transformer*`) has no per-sample gradient sampler "
                "(`DPMultiheadAttention` replaces it)",
        holds=">=1.0",
        changed_by="none (every 1.x release measured)",
        measured=_on({"1.4.1": "flag cases crash", "1.5.4": "flag cases crash", "1.6.0": "flag cases crash"}),
        probe="cases:DPL103-multihead-attention",
        when_unknown=True,
    ),
)

_BY_KEY = {behaviour.key: behaviour for behaviour in BEHAVIOURS}


def behaviour(key: str) -> Behaviour:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"no Opacus behaviour {key!r} in the version table (dp_lint/config/opacus_versions.py)") from None


def holds(key: str, version: str | None) -> bool:
    return behaviour(key).holds_for(version)


def releases_text(keys) -> str:
    """`"opacus <1.5"` / `"opacus >=1.5,<=1.6.0 or <1.5"`: where the union of `keys` holds."""
    ranges = [behaviour(key).holds for key in keys]
    return "opacus " + " or ".join(dict.fromkeys(ranges)) if ranges else "every opacus release"


def measured_text(item: Behaviour) -> str:
    """`1.4.1: crash: ...; 1.5–1.6.0: ok`: the measured outcomes, consecutive releases with the same
    outcome merged."""
    groups: list[list] = []
    for release, outcome in item.measured:
        if groups and groups[-1][2] == outcome:
            groups[-1][1] = release
        else:
            groups.append([release, release, outcome])
    return "; ".join(f"{first}{'–' + last if last != first else ''}: {outcome}" for first, last, outcome in groups)


def markdown_table(keys) -> str:
    """The version-table rows of `keys` as a Markdown table (what each rule's README shows under
    `## Opacus versions`; scripts/measure_versions/readme_sections.py writes it there)."""
    lines = [
        "| Behaviour | Holds for | Changed by | Measured (torch 2.13, CPU) |",
        "| --- | --- | --- | --- |",
    ]
    for key in keys:
        item = behaviour(key)
        cells = [item.summary, f"`{item.holds}`", item.changed_by, measured_text(item)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
