"""`dp-lint verify`: prove a finding (or a fix) by running the model under real Opacus.

Layout (the parent never imports torch, Opacus or user code; only the child does):

- `targets`         which models to build and how: target strings, engine calls, `[[tool.dp-lint.verify]]`,
                    constructor arguments, settings (static, no torch)
- `inputs`          inferring forward()'s inputs from the first layer that consumes each argument (static)
- `specs`           input specs (`float[B, 16]`, `long[B, 7] < 50`)
- `launcher`        the child process: time limit, process group, captured output, restarts (parent side)
- `runtime/`        what runs in the child (`child`, `smoke.check_model`, `equivalence`): the only part
                    that imports torch, Opacus and user code
- `api`             verdicts (`ModelVerdict`, `OrdinaryComparison`) and the functions below
- `report`          the table / concise / JSON output of `dp-lint verify`
- `check_findings`  `dp-lint check --verify`: a runtime verdict on each finding
- `fixes`           `dp-lint fix --verify`: verdicts before and after the fixes
(the click command is `dp_lint.cli.verify`)

API for `dp-lint fix --verify`
------------------------------

    from dp_lint.verify import (
        discover_targets, targets_for_findings, load_project,
        verify_targets, verify_project, compare_ordinary, VerifyUsageError,
    )

`targets_for_findings(project, findings, root, config) -> list[list[VerifyTarget] | str]`
    For each finding, the models whose verdict speaks for it (engine-wrapped models whose tree
    holds the finding's layer or class, else the class itself), or a string saying why there is
    none. `project` is the `Project` the check ran on (`Run.project`; for fixes
    `FixReport.original_project`), so nothing is parsed twice; `load_project([root], config)` parses
    files outside a run.

`verify_targets(targets, *, device="auto", timeout=120.0, fresh_process=False, cwd=None, seed=0)
 -> list[ModelVerdict]`
    Verdicts in the order of `targets`. A target with a static `problem` gets `cannot-build` at
    once; the others run in child processes (one after the other in one child; a hung or
    crashed child is replaced). Raises `VerifyUsageError` when torch/Opacus are missing or
    `device="cuda"` has no CUDA.

`verify_project(root, targets=(), *, paths=(), config=None, device="auto", timeout=120.0,
 fresh_process=False, seed=0) -> list[ModelVerdict]`
    `discover_targets(root, targets, paths=paths, config=config)` then `verify_targets` with the
    child's working directory at `root`. `targets` are strings (`path/to/file.py:Class`
    relative to `root`, or `pkg.mod:factory`); with none, the engine-wrapped models and the
    configured ones. Works on a temporary copy of a project: pass the copy as `root` (and
    `paths=[copy]` so that engine calls anywhere in it are seen). Relative labels are the same
    in the original and in the copy.

`VerifyTarget.moved(old_root, new_root) -> VerifyTarget`
    The same target (inputs, arguments, engine settings) pointing at the copy's files. Use it
    to verify "after" exactly like "before": `verify_targets([t.moved(root, copy) for t in before])`.

`compare_ordinary(original_target, fixed_target, *, device="auto", timeout=120.0, cwd=None, seed=0)
 -> OrdinaryComparison`
    Builds both models in one child (the original's modules are forgotten before the fixed
    copy is imported, so the same module names are fine), loads the original's state dict into
    the fixed model (different parameter names or shapes: `error` says so), runs the original's
    inputs through both in training mode with the same seed and loss, and compares outputs and
    every parameter's ordinary gradient within the smoke test's tolerance (absent gradients,
    e.g. of parameters the fix froze, count as zeros). `.equal`, `.summary()` ("ordinary
    outputs and gradients unchanged"), `.max_output_error`, `.max_gradient_error`,
    `.parameters`, `.error`. `compare_ordinary_many([(original, fixed), ...])` does several pairs
    in one child.

`ModelVerdict`: `.target`, `.verdict` (ok | crash | silent | cannot-build | error), `.error`,
`.device`, `.parameters` (`ParameterVerdict`: name, shape, status, error, max_abs_error),
`.max_error`, `.summary()` ("ok (max error 3e-07)", "crash (ValueError: Per sample gradient is
not initialized...)"), `.failed` (crash/silent), `.unverified` (cannot-build/error),
`.config_hint`, `.to_json()`.

Sketch of `fix --verify`:

    before = targets_for_findings(project, findings, root, config)      # per finding
    copy = <temporary copy of root with the fixes applied>
    for finding, targets in zip(findings, before):
        if isinstance(targets, str): ...                                  # not verifiable
        old = verify_targets(targets, cwd=root)
        new = verify_targets([t.moved(root, copy) for t in targets], cwd=copy)
        same = [compare_ordinary(t, t.moved(root, copy), cwd=root) for t in targets]  # safe fixes
        # "DPL001 models/simsiam.py:17 - before: {old[0].summary()} -> after: {new[0].summary()};
        #  {same[0].summary()}"; confirmed when before failed and after is ok
"""

_EXPORTS = {
    "ModelVerdict": "api",
    "OrdinaryComparison": "api",
    "ParameterVerdict": "api",
    "compare_ordinary": "api",
    "compare_ordinary_many": "api",
    "verify_project": "api",
    "verify_targets": "api",
    "ModelRef": "targets",
    "VerifyTarget": "targets",
    "VerifyUsageError": "targets",
    "discover_targets": "targets",
    "load_project": "targets",
    "targets_for_findings": "targets",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    # Lazy: the child process (`python -m dp_lint.verify.runtime.child`) imports this package too, and
    # must not pay for libcst and the static analysis it never uses.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dp_lint.verify' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"dp_lint.verify.{module}"), name)
