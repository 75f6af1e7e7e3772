"""The child process of `dp-lint verify`: the only place where torch, Opacus and user code run.

Started by `dp_lint.verify.launcher` as `python -m dp_lint.verify.runtime.child`. It reads one JSON request
from stdin:

    {"result_file": "/tmp/.../results.jsonl", "device": "auto"|"cpu"|"cuda", "seed": 0,
     "jobs": [{"id": 0, "kind": "verify", "target": {...}},
              {"id": 1, "kind": "compare", "original": {...}, "fixed": {...}}]}

and appends one JSON object per line to `result_file` (never to stdout, which user code may
fill with noise): `{"event": "ready", ...}` once torch and Opacus are imported, then for each
job `{"event": "start", "id": N}` and `{"event": "result", "id": N, "result": {...}}`, or
`{"event": "fatal", "kind": ..., "message": ...}` when nothing can run (CUDA asked for but
unavailable). A job that kills the process (os._exit, a segfault) or hangs leaves a "start"
without a "result": the parent gives that job a verdict and starts a fresh child for the rest.

Jobs run one after the other; before each, seeds are reset and afterwards the modules imported
from the job's folders are forgotten, so that two projects with a module of the same name
(`model.py`) can be verified by one child.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import random
import sys
import traceback
from pathlib import Path


class _Writer:
    def __init__(self, path: str):
        self.path = path

    def write(self, record: dict) -> None:
        # Flush user output first so the parent attributes it to the right job.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        line = json.dumps(record, default=str) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)


def _error_text(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _user_frame(exc: BaseException, roots: list[str]) -> str:
    """` (at file.py:12)` for the deepest traceback frame in the user's folders."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if any(_below(frame.filename, root) for root in roots if root) and not _installed(frame.filename):
            found = frame
    if found is None:
        return ""
    return f" (at {found.filename}:{found.lineno})"


def _below(path: str, folder: str) -> bool:
    try:
        return Path(os.path.abspath(path)).is_relative_to(Path(os.path.abspath(folder)))
    except (OSError, ValueError):
        return False


def _stdlib_folders() -> tuple[str, ...]:
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple(os.path.abspath(paths[k]) for k in ("stdlib", "platstdlib") if k in paths)


_STDLIB = _stdlib_folders()


def _installed(path: str) -> bool:
    """Is `path` part of an installed package or of the standard library (never forgotten)?"""
    absolute = os.path.abspath(path)
    parts = Path(absolute).parts
    return "site-packages" in parts or "dist-packages" in parts or any(
        absolute.startswith(folder + os.sep) for folder in _STDLIB
    )


class CannotBuild(Exception):
    """The model cannot be imported or built: the verdict is cannot-build with this reason."""


# --------------------------------------------------------------------------- importing user code


class _Imports:
    """Puts the job's folders on sys.path and forgets the modules imported from them afterwards."""

    def __init__(self):
        self.roots: list[str] = []
        self._path = list(sys.path)
        self._modules = set(sys.modules)

    def load(self, ref: dict):
        root = ref.get("root")
        if root and root not in sys.path:
            sys.path.insert(0, root)
        if root:
            self.roots.append(root)
        module_name, file, attr = ref["module"], ref.get("file"), ref["attr"]
        where = file or module_name
        try:
            module = self._import(module_name, file)
        except CannotBuild:
            raise
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise CannotBuild(f"importing {where} failed: {_error_text(exc)}{_user_frame(exc, self.roots)}") from None
        if not hasattr(module, attr):
            raise CannotBuild(f"{where} has no attribute `{attr}`")
        return getattr(module, attr)

    def _import(self, name: str, file: str | None):
        if file is None:
            return importlib.import_module(name)
        existing = sys.modules.get(name)
        if existing is not None and not _same_file(existing, file):
            return self._import_file(file)  # the name is taken (a stdlib module, another project)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                return self._import_file(file)
            raise
        return module if _same_file(module, file) else self._import_file(file)

    def _import_file(self, file: str):
        name = "_dp_lint_verify_" + "".join(c if c.isalnum() else "_" for c in file)
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise CannotBuild(f"cannot import {file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    def forget(self) -> None:
        """Drop the modules imported from the job's folders; restore sys.path."""
        roots = [r for r in self.roots if r]
        for name in list(sys.modules):
            if name in self._modules:
                continue
            module = sys.modules.get(name)
            if name.startswith("_dp_lint_verify_") or any(_module_below(module, root) for root in roots):
                del sys.modules[name]
        sys.path[:] = self._path
        importlib.invalidate_caches()
        self.roots = []
        self._modules = set(sys.modules)


def _same_file(module, file: str) -> bool:
    origin = getattr(module, "__file__", None)
    try:
        return origin is not None and os.path.samefile(origin, file)
    except OSError:
        return False


def _module_below(module, root: str) -> bool:
    spec = getattr(module, "__spec__", None)
    places = []
    origin = getattr(module, "__file__", None)
    if origin:
        places.append(origin)
    if spec is not None:
        places += list(spec.submodule_search_locations or [])
    return any(isinstance(p, str) and _below(p, root) and not _installed(p) for p in places)


# --------------------------------------------------------------------------- jobs


def _seed(seed: int) -> None:
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    if "numpy" in sys.modules:
        try:
            sys.modules["numpy"].random.seed(seed)
        except Exception:
            pass


def _factory(imports: _Imports, target: dict, no_dropout: _NoDropout | None = None):
    """A zero-argument function building the target's model (as the engine receives it)."""
    import torch

    obj = imports.load(target["model"])
    args = list(target.get("args") or [])
    kwargs = dict(target.get("kwargs") or {})
    label = target["label"]

    def build():
        model = obj(*args, **kwargs)
        if target.get("validator_fix"):
            from opacus.validators import ModuleValidator

            model = ModuleValidator.fix(model)
        return no_dropout.model(model) if no_dropout is not None and isinstance(model, torch.nn.Module) else model

    try:
        model = build()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        raise CannotBuild(
            f"building {label.rsplit(':', 1)[-1]}({shown}) failed: {_error_text(exc)}{_user_frame(exc, imports.roots)}"
        ) from None
    if not isinstance(model, torch.nn.Module):
        raise CannotBuild(f"{label} did not build an nn.Module (got {type(model).__name__})")
    return build


def _loss(imports: _Imports, ref):
    """The configured loss: a built-in name (see dp_lint.verify.runtime.smoke.default_loss), a function
    `loss(output) -> scalar`, or None for the default."""
    if ref is None or isinstance(ref, str):
        return ref
    function = imports.load(ref)
    if not callable(function):
        raise CannotBuild(f"the configured loss {ref['label']} is not callable")
    return function


class _NoDropout:
    """Dropout off while a job runs: the batched pass and the one-sample reference would draw
    different masks, and the per-sample gradients would differ for no fault of Opacus.

    torch.nn.functional's dropout functions (which nn.Dropout* and the attention layers call)
    become the identity, scaled_dot_product_attention gets dropout_p=0, and the float
    `dropout` of nn.MultiheadAttention modules is set to 0. `used` tells whether any dropout
    with p > 0 was met.
    """

    NAMES = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")

    def __init__(self):
        self.used = False
        self._saved = {}

    def __enter__(self):
        import torch.nn.functional as F

        def identity_for(name):
            def identity(input, p=0.5, training=True, inplace=False):
                if training and p:
                    self.used = True
                return input
            identity.__name__ = name
            return identity

        for name in self.NAMES:
            if hasattr(F, name):
                self._saved[name] = getattr(F, name)
                setattr(F, name, identity_for(name))
        if hasattr(F, "scaled_dot_product_attention"):
            original = F.scaled_dot_product_attention
            self._saved["scaled_dot_product_attention"] = original

            def attention(query, key, value, attn_mask=None, dropout_p=0.0, *args, **kwargs):
                if dropout_p:
                    self.used = True
                return original(query, key, value, attn_mask, 0.0, *args, **kwargs)

            F.scaled_dot_product_attention = attention
        return self

    def __exit__(self, *exc):
        import torch.nn.functional as F

        for name, function in self._saved.items():
            setattr(F, name, function)
        self._saved = {}
        return False

    def model(self, model):
        """Zero the float dropout of attention modules (they pass it to the functions above)."""
        import torch

        for module in model.modules():
            if isinstance(module, torch.nn.MultiheadAttention) and module.dropout:
                module.dropout = 0.0
                self.used = True
        return model


_BATCHED_REFERENCE_NOTE = ("the reference gradients are each sample's loss through the batched forward, with the "
                           "same random draws as under Opacus (the model draws random numbers in forward, or runs "
                           "only on batches of this size); no sample's output depended on the others")
_DROPOUT_NOTE = "dropout was switched off during the check (the one-sample reference could not match it)"


def verify(job: dict, device: str, seed: int) -> dict:
    # deferred: the child imports dp-lint's runtime only after main() has loaded torch and opacus
    from dp_lint.verify.runtime.smoke import ModelError, check_model, pick_batch_sizes

    target = job["target"]
    imports = _Imports()
    result = {"device": device, "inputs": target.get("inputs"), "parameters": [], "error": None, "notes": []}
    no_dropout = _NoDropout()
    try:
        no_dropout.__enter__()
        _seed(seed)
        build = _factory(imports, target, no_dropout)
        sizes = pick_batch_sizes(target["inputs"])
        loss = _loss(imports, target.get("loss"))
        result["batch_sizes"] = list(sizes)
        _seed(seed)
        verdict = check_model(
            build,
            target["inputs"],
            batch_first=target["batch_first"],
            loss_reduction=target["loss_reduction"],
            loss=loss,
            batch_sizes=sizes,
            seed=seed,
            device=device,
            validate=target.get("validate", True),
            grad_sample_mode=target.get("grad_sample_mode", "hooks"),
        )
    except CannotBuild as exc:
        result.update(verdict="cannot-build", error=str(exc))
        return result
    except ModelError as exc:
        result.update(verdict="cannot-build", error=f"{exc}{_user_frame(exc.__cause__ or exc, imports.roots)}",
                      model_error=True)
        return result
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        result.update(verdict="error", error=f"the check stopped: {_error_text(exc)}{_user_frame(exc, imports.roots)}")
        return result
    finally:
        no_dropout.__exit__(None, None, None)
        imports.forget()
        if no_dropout.used:
            result["notes"].append(_DROPOUT_NOTE)
    result.update(
        verdict=verdict.verdict,
        error=verdict.error,
        batch_size=verdict.batch_size,
        max_error=verdict.max_error,
        reference=verdict.reference,
    )
    if verdict.reference == "batched" and verdict.error is None:
        result["notes"].append(_BATCHED_REFERENCE_NOTE)
    result.update(
        parameters=[
            {
                "name": p.name,
                "shape": list(p.shape),
                "status": p.status,
                "max_abs_error": p.max_abs_error,
                "note": p.note,
            }
            for p in verdict.parameters
        ],
    )
    return result


def capture_and_verify(job: dict, requested_device: str, device: str, seed: int) -> dict:
    """Capture mode: run the user's entry point to its first private forward pass, then check
    the real model on that real batch (see dp_lint.verify.runtime.capture)."""
    # deferred: the child imports dp-lint's runtime only after main() has loaded torch and opacus
    from dp_lint.verify.runtime.capture import CaptureFailed, capture

    result: dict = {"device": device, "parameters": [], "error": None, "notes": [], "origin": "capture"}
    _seed(seed)
    try:
        found = capture(job["command"], job["cwd"])
    except CaptureFailed as exc:
        cause = exc.__cause__
        where = _user_frame(cause, [job["cwd"]]) if cause is not None else ""
        result.update(verdict="cannot-build", error=f"{exc}{where}")
        return result
    settings = found.settings
    result["settings"] = _shown_settings(settings)
    result["engine"] = found.engine
    if found.criterion is not None:
        result["settings"]["criterion"] = found.criterion
    if found.engine_error is not None:
        where = _user_frame(found.engine_error, [job["cwd"]])
        result.update(verdict="crash", error=f"{found.engine} raised: {_error_text(found.engine_error)}{where}")
        return result
    if found.script_error is not None:
        where = _user_frame(found.script_error, [job["cwd"]])
        result.update(verdict="crash", error=f"after {found.engine}, before the first training forward: "
                                             f"{_error_text(found.script_error)}{where}")
        return result
    return check_real_batch(found.module, found.args, found.kwargs, settings, found.engine,
                            requested_device, device, seed, result)


def _shown_settings(settings: dict) -> dict:
    """The engine settings as the report shows them: plain values, others by repr; the names of
    the stepped parameters are said in a note instead."""
    # deferred: the child imports dp-lint's runtime only after main() has loaded torch and opacus
    from dp_lint.verify.runtime.capture import STEPPED_PARAMETERS

    return {k: (v if isinstance(v, (bool, int, float, str, type(None))) else repr(v))
            for k, v in settings.items() if k != STEPPED_PARAMETERS}


def check_real_batch(module, args: tuple, kwargs: dict, settings: dict, engine: str, requested_device: str,
                     device: str, seed: int, result: dict, judge_batch_sizes: bool = True) -> dict:
    """The per-sample-gradient check of the real model (as the engine received it) on the real
    batch the script fed it: `result` gains the verdict, the batch shapes and the parameters.

    `judge_batch_sizes`: a model that fails on batches smaller than the script's is a crash when
    the engine samples batches of varying size (Poisson sampling); observe mode sees the real
    batches instead and passes False."""
    import copy

    # deferred: the child imports dp-lint's runtime only after main() has loaded torch and opacus
    from dp_lint.verify.runtime.capture import STEPPED_PARAMETERS
    from dp_lint.verify.runtime.smoke import GRAD_SAMPLE_MODES, Batch, ModelError, check_batch, tensors_of

    batch_first = settings.get("batch_first") is not False
    batch_dim = 0 if batch_first else 1
    tensors = [t for t in tensors_of([args, kwargs]) if t.dim() > batch_dim]
    if not tensors:
        result.update(verdict="cannot-build", error="the first private forward pass received no tensor with a batch dimension")
        return result
    size = int(tensors[0].shape[batch_dim])
    if size < 2:
        result.update(verdict="cannot-build",
                      error=f"the first batch the script fed the private model holds {size} sample(s); at least 2 are needed")
        return result
    # The script chose its device; --device cpu/cuda overrides it.
    first = next(module.parameters(), None)
    run_on = device if requested_device in ("cpu", "cuda") or first is None else str(first.device.type)
    result["device"] = run_on
    mode = settings.get("grad_sample_mode") or "hooks"
    if mode not in GRAD_SAMPLE_MODES:
        result["notes"].append(f"grad_sample_mode={mode!r} keeps no per-sample gradients: checked in hooks mode")
        mode = "hooks"
    batch = Batch(args, kwargs, size, batch_dim)
    stepped = settings.get(STEPPED_PARAMETERS)
    if stepped is not None:
        result["notes"].append(f"the optimizer given to {engine} holds {len(stepped)} of the trainable parameters: "
                               "the others are neither clipped nor stepped, and are not checked")
    result["inputs"] = batch.shapes()
    result["batch_of_script"] = size
    no_dropout = _NoDropout()
    try:
        no_dropout.__enter__()
        quiet = no_dropout.model(module)
        _seed(seed)
        verdict = check_batch(
            lambda: copy.deepcopy(quiet),
            batch,
            batch_first=batch_first,
            loss_reduction=str(settings.get("loss_reduction") or "mean"),
            seed=seed,
            device=run_on,
            validate=engine != "GradSampleModule",
            grad_sample_mode=mode,
            varying_batches=judge_batch_sizes and engine != "GradSampleModule"
            and settings.get("poisson_sampling") is not False,
            nominal_batch_size=settings.get("loader_batch_size"),
            stepped=stepped,
        )
    except ModelError as exc:
        result.update(verdict="cannot-build", error=str(exc), model_error=True)
        return result
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        result.update(verdict="error", error=f"the check stopped: {_error_text(exc)}")
        return result
    finally:
        no_dropout.__exit__(None, None, None)
        if no_dropout.used:
            result["notes"].append(_DROPOUT_NOTE)
    result.update(
        verdict=verdict.verdict,
        error=verdict.error,
        batch_size=verdict.batch_size,
        max_error=verdict.max_error,
        reference=verdict.reference,
    )
    if verdict.reference == "batched" and verdict.error is None:
        result["notes"].append(_BATCHED_REFERENCE_NOTE)
    result.update(
        parameters=[
            {"name": p.name, "shape": list(p.shape), "status": p.status, "max_abs_error": p.max_abs_error,
             "note": p.note}
            for p in verdict.parameters
        ],
    )
    return result


def observe_steps(job: dict, device: str, seed: int) -> dict:
    """Observe mode: let the user's entry point take `job["steps"]` private optimizer steps and
    check the privacy invariants at each (see dp_lint.verify.runtime.observe)."""
    # deferred: the child imports dp-lint's runtime only after main() has loaded torch and opacus
    from dp_lint.verify.runtime.capture import CaptureFailed
    from dp_lint.verify.runtime.observe import observe

    result: dict = {"device": device, "parameters": [], "error": None, "notes": [], "origin": "capture"}
    _seed(seed)
    try:
        found = observe(job["command"], job["cwd"], int(job.get("steps") or 1))
    except CaptureFailed as exc:
        cause = exc.__cause__
        where = _user_frame(cause, [job["cwd"]]) if cause is not None else ""
        result.update(verdict="cannot-build", error=f"{exc}{where}")
        return result
    result["engine"] = found.engine
    result["settings"] = _shown_settings(found.settings)
    if found.criterion is not None:
        result["settings"]["criterion"] = found.criterion
    result["steps"] = found.steps
    result["notes"].extend(found.notes)
    invariants = [
        {"name": i.name, "holds": i.holds, "measured": i.measured, "consequence": i.consequence}
        for i in found.invariants
    ]
    if found.crash is None and found.module is not None and found.first_batch is not None:
        invariants.append(_per_sample_invariant(found, job, device, seed, result))
    result["invariants"] = invariants
    broken = [i for i in invariants if not i["holds"]]
    if found.crash is not None:
        where = _user_frame(found.crash, [job["cwd"]])
        result.update(verdict="crash", error=f"{_error_text(found.crash)}{where} (after {found.steps} private step(s))")
    elif broken:
        result.update(verdict="silent", error="; ".join(f"{i['name']}: {i['measured']}" for i in broken))
    else:
        result["verdict"] = "ok"
    return result


def _per_sample_invariant(found, job: dict, device: str, seed: int, result: dict) -> dict:
    """The first batch the loop fed the private model, checked as capture mode checks it: Opacus'
    per-sample gradients of the model against one-sample-at-a-time ones. A model the check cannot
    run is not judged (a note says why)."""
    checked: dict = {"device": device, "parameters": [], "error": None, "notes": []}
    args, kwargs = found.first_batch
    check_real_batch(found.module, args, kwargs, found.settings, found.engine or "make_private",
                     "auto", device, seed, checked, judge_batch_sizes=False)
    result["notes"].extend(checked["notes"])
    result["parameters"] = checked["parameters"]
    for key in ("inputs", "batch_size", "max_error"):
        if key in checked:
            result[key] = checked[key]
    verdict = checked.get("verdict")
    if verdict not in ("ok", "silent", "crash"):
        result["notes"].append(f"per-sample gradients of the first batch not compared: {checked.get('error')}")
        return {"name": "per-sample-gradients", "holds": True, "measured": "not compared", "consequence": "privacy"}
    error = checked.get("max_error")
    shown = f"{error:.2g}" if isinstance(error, float) else str(error)
    against = ("per-sample losses through the batched forward" if checked.get("reference") == "batched"
               else "one-sample-at-a-time ones")
    measured = (f"first batch: per-sample gradients match {against} (max error {shown})"
                if verdict == "ok" else f"first batch: {checked.get('error')}")
    return {"name": "per-sample-gradients", "holds": verdict == "ok", "measured": measured, "consequence": "privacy"}


def compare(job: dict, device: str, seed: int) -> dict:
    """Ordinary (non-private) outputs and gradients of two models on the same weights and inputs."""
    original, fixed = job["original"], job["fixed"]
    result = {"device": device, "equal": False, "error": None, "parameters": []}
    with _NoDropout() as no_dropout:
        return _compare(original, fixed, device, seed, result, no_dropout)


def _compare(original, fixed, device, seed, result, no_dropout) -> dict:
    import torch

    # deferred: the child imports dp-lint's runtime only after main() has loaded torch and opacus
    from dp_lint.verify.runtime.equivalence import compare_models
    from dp_lint.verify.runtime.smoke import default_loss, make_inputs, pick_batch_sizes

    imports = _Imports()
    try:
        _seed(seed)
        build_original = _factory(imports, original, no_dropout)
        loss = _loss(imports, original.get("loss"))
        torch.manual_seed(seed)
        model_a = build_original().to(device)
        imports.forget()  # the fixed copy has the same module names
        _seed(seed)
        build_fixed = _factory(imports, fixed, no_dropout)
        torch.manual_seed(seed)
        model_b = build_fixed().to(device)
    except CannotBuild as exc:
        imports.forget()
        result["error"] = str(exc)
        return result
    try:
        specs = original["inputs"]
        size = pick_batch_sizes(specs)[0]
        inputs = [x.to(device) for x in make_inputs(specs, size, seed=seed + size)]
        reduction = original.get("loss_reduction", "mean")

        def batch_loss(output):
            if loss is None or isinstance(loss, str):
                return default_loss(output, size, reduction, loss or "sum-of-squares")
            return loss(output)

        comparison = compare_models(model_a, model_b, inputs, batch_loss, seed=seed)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        result["error"] = f"running the models failed: {_error_text(exc)}{_user_frame(exc, imports.roots)}"
        return result
    finally:
        imports.forget()
    if comparison.error is not None:
        result["error"] = comparison.error
        return result
    result.update(
        equal=comparison.equal,
        outputs_equal=comparison.outputs_equal,
        gradients_equal=comparison.gradients_equal,
        max_output_error=comparison.max_output_error,
        max_gradient_error=comparison.max_gradient_error,
        batch_size=size,
    )
    result["parameters"].extend(comparison.parameters)
    return result


# --------------------------------------------------------------------------- main


def _resolve_device(requested: str) -> tuple[str | None, str | None]:
    import torch

    available = torch.cuda.is_available()
    if requested == "cpu":
        return "cpu", None
    if requested == "cuda":
        if not available:
            return None, (
                f"--device cuda: CUDA is not available to torch {torch.__version__} "
                f"(torch.cuda.is_available() is False; torch.version.cuda is {torch.version.cuda})"
            )
        return "cuda", None
    return ("cuda" if available else "cpu"), None


def main() -> None:
    request = json.loads(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # user code reading stdin gets end-of-file, never the request
    sys.dont_write_bytecode = True  # keep __pycache__ folders out of the user's project
    writer = _Writer(request["result_file"])
    try:
        import opacus
        import torch

        # deferred: the child's start-up; imported while dp-lint's own folder is on sys.path
        import dp_lint.verify.runtime.smoke  # noqa: F401
    except Exception as exc:
        writer.write({"event": "fatal", "kind": "import", "message": f"cannot import torch and opacus: {_error_text(exc)}"})
        return
    own = request.get("dp_lint_path")
    if own in sys.path[1:]:
        sys.path.remove(own)  # the PYTHONPATH entry that found dp_lint; user code does not need it
    device, problem = _resolve_device(request.get("device", "auto"))
    if device is None:  # _resolve_device gives either a device or the problem
        writer.write({"event": "fatal", "kind": "device", "message": problem})
        return
    if device == "cuda":
        # Exact float32 arithmetic on both sides of the comparison.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    writer.write({"event": "ready", "device": device, "device_name": name, "torch": torch.__version__,
                  "opacus": opacus.__version__, "pid": os.getpid()})
    seed = int(request.get("seed", 0))
    for job in request["jobs"]:
        writer.write({"event": "start", "id": job["id"]})
        try:
            if job["kind"] == "compare":
                result = compare(job, device, seed)
            elif job["kind"] == "capture":
                result = capture_and_verify(job, request.get("device", "auto"), device, seed)
            elif job["kind"] == "observe":
                result = observe_steps(job, device, seed)
            else:
                result = verify(job, device, seed)
        except BaseException as exc:
            result = {"verdict": "error", "error": f"dp-lint's check failed: {_error_text(exc)}", "device": device,
                      "parameters": []}
        writer.write({"event": "result", "id": job["id"], "result": result})
        if device == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
