"""Capture mode of `dp-lint verify --run`: run the user's own training entry point until its first
private forward pass, and keep what Opacus was given.

Only the verify child imports this module (it runs user code and needs torch and Opacus). The
entry point runs in the child's interpreter with Opacus' entry points wrapped:
`PrivacyEngine.make_private`, `PrivacyEngine.make_private_with_epsilon` and `GradSampleModule`
built directly. At the first engine call a copy of the module (as the engine received it, before
any hook) and every engine setting are recorded, the real engine call proceeds, and a forward
pre-hook on the private model stops the script at its first forward pass in training mode with
gradients enabled — before any backward pass or optimizer step. The arguments of that call are
the real batch the training loop drew from its data loader.
"""

from __future__ import annotations

import copy
import os
import re
import runpy
import sys
from dataclasses import dataclass, field
from typing import Any

from dp_lint.verify.runtime.smoke import map_tensors

# The engine settings recorded, with Opacus' defaults for make_private (1.6.0).
SETTING_DEFAULTS: dict[str, Any] = {
    "batch_first": True,
    "loss_reduction": "mean",
    "grad_sample_mode": "hooks",
    "poisson_sampling": True,
    "clipping": "flat",
    "max_grad_norm": None,
    "noise_multiplier": None,
}

# Where the settings keep the names of the parameters the user's optimizer steps, when it holds
# only some of the trainable ones (a linear probe): the others are not the engine's business.
STEPPED_PARAMETERS = "stepped_parameters"


class CaptureFailed(Exception):
    """The entry point could not be run to its first private forward pass; the message says why."""


class _Stop(BaseException):
    """Raised inside the user's script to end it at the first private forward pass.

    A BaseException, so that the script's own `except Exception:` blocks do not swallow it."""


@dataclass
class Captured:
    """What the entry point gave Opacus, and the first batch its loop fed the private model."""

    engine: str  # "make_private", "make_private_with_epsilon", "GradSampleModule"
    module: Any  # a copy of the nn.Module as the engine received it (no Opacus hooks)
    settings: dict[str, Any] = field(default_factory=dict)
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    criterion: str | None = None  # ghost mode: what make_private received as `criterion`
    notes: list[str] = field(default_factory=list)
    engine_error: BaseException | None = None  # the engine call itself raised (Opacus refused the setup)
    script_error: BaseException | None = None  # the engine call's statement raised taking its result


# `train.py:main`, `pkg/train.py:main` or `pkg.train:main`: a function called with no argument.
_FUNCTION_ENTRY = re.compile(r"^(?:[\w./\\-]+\.py|[A-Za-z_][\w.]*):[A-Za-z_]\w*$")


def parse_command(words: list[str]) -> tuple[str, str, list[str]]:
    """`["python", "train.py", "--epochs", "1"]` -> ("path", "train.py", argv); `python -m pkg.train`
    -> ("module", "pkg.train", argv); `train.py ...` alone works too; `["train.py:main"]` or
    `["pkg.train:main"]` -> ("function", "train.py:main", argv): the function is called with no
    argument. argv is what sys.argv becomes."""
    if not words:
        raise CaptureFailed("the command to run is empty")
    rest = list(words)
    if len(rest) == 1 and _FUNCTION_ENTRY.match(rest[0]):
        return "function", rest[0], [rest[0].rsplit(":", 1)[0]]
    first = os.path.basename(rest[0])
    if first.startswith("python") or rest[0] == sys.executable:
        rest = rest[1:]
        while rest and rest[0].startswith("-") and rest[0] not in ("-m", "-c"):
            rest = rest[1:]  # interpreter options such as -u or -O do not change what runs
    if not rest:
        raise CaptureFailed(f"`{' '.join(words)}` names no script or module to run")
    if rest[0] == "-c":
        raise CaptureFailed("`python -c` is not supported: name a script (`python train.py`) or a module (`python -m pkg.train`)")
    if rest[0] == "-m":
        if len(rest) < 2:
            raise CaptureFailed("`python -m` needs a module name")
        return "module", rest[1], [rest[1], *rest[2:]]
    if not rest[0].endswith(".py") and not os.path.isfile(rest[0]):
        raise CaptureFailed(f"`{' '.join(words)}`: {rest[0]} is neither a Python script nor `-m module`")
    return "path", rest[0], rest


def capture(words: list[str], cwd: str) -> Captured:
    """Run `words` (a `python script.py args...` command) in this interpreter until the first private
    forward pass. Raises CaptureFailed when the script ends, fails or exits before that."""
    import opacus
    from opacus import GradSampleModule, PrivacyEngine

    parse_command(words)  # a malformed command fails before anything is patched
    state: dict[str, Any] = {"captured": None, "depth": 0}
    saved = {
        "make_private": PrivacyEngine.make_private,
        "make_private_with_epsilon": PrivacyEngine.make_private_with_epsilon,
        "gsm_init": GradSampleModule.__init__,
    }

    def record(engine: str, module: Any, settings: dict[str, Any], criterion: Any = None) -> Captured:
        try:
            original = copy.deepcopy(module)
        except Exception as exc:
            raise CaptureFailed(f"the model given to {engine} cannot be copied ({type(exc).__name__}: {exc})") from exc
        found = Captured(engine, original, {**SETTING_DEFAULTS, **settings})
        if criterion is not None:
            found.criterion = getattr(criterion, "__qualname__", None) or type(criterion).__name__
        state["captured"] = found
        return found

    def stop_at_first_forward(private_model: Any) -> None:
        import torch

        def hook(module: Any, args: tuple, kwargs: dict) -> None:
            if module.training and torch.is_grad_enabled():
                found = state["captured"]
                found.args, found.kwargs = map_tensors(args, detached_copy), map_tensors(kwargs, detached_copy)
                raise _Stop()

        private_model.register_forward_pre_hook(hook, with_kwargs=True)

    def engine_wrapper(name: str):
        real = saved[name]

        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            if state["captured"] is not None or state["depth"]:
                return real(self, *args, **kwargs)
            bound = bind_arguments(real, self, args, kwargs)
            settings = {key: bound[key] for key in SETTING_DEFAULTS if key in bound}
            recorded = record(name, bound.get("module"), settings, bound.get("criterion"))
            stepped = stepped_parameters(bound.get("module"), bound.get("optimizer"))
            if stepped is not None:
                recorded.settings[STEPPED_PARAMETERS] = stepped
            # The batch size the user's loader was built with: a model made for that size only
            # is told from a broken one by it (smoke.check_batch).
            loader_batch_size = getattr(bound.get("data_loader"), "batch_size", None)
            if isinstance(loader_batch_size, int):
                recorded.settings["loader_batch_size"] = loader_batch_size
            caller = sys._getframe(1)
            state["call_site"] = (caller, caller.f_lineno)
            state["depth"] += 1
            try:
                result = real(self, *args, **kwargs)
            except Exception as exc:
                recorded.engine_error = exc
                raise
            finally:
                state["depth"] -= 1
            first = result[0] if isinstance(result, tuple) else result
            if hooks_object(first):
                # `wrap_model=False` (opacus >= 1.6): the hooks sit on the module passed in.
                state["hooks_type"] = type(first).__name__
                first = bound.get("module")
            stop_at_first_forward(first)
            return result

        return wrapped

    def gsm_init(self: Any, m: Any, *args: Any, **kwargs: Any) -> None:
        direct = state["captured"] is None and not state["depth"]
        if direct:  # GradSampleModule(model) written in the script, not built by make_private
            bound = bind_arguments(saved["gsm_init"], self, (m, *args), kwargs)
            settings: dict[str, Any] = {key: bound[key] for key in ("batch_first", "loss_reduction") if key in bound}
            record("GradSampleModule", m, settings)  # copied before the hooks are added
        saved["gsm_init"](self, m, *args, **kwargs)
        if direct:
            stop_at_first_forward(self)

    PrivacyEngine.make_private = engine_wrapper("make_private")
    PrivacyEngine.make_private_with_epsilon = engine_wrapper("make_private_with_epsilon")
    GradSampleModule.__init__ = gsm_init
    try:
        how, cause = run_entry_point(words, cwd, stop=_Stop)
    finally:
        PrivacyEngine.make_private = saved["make_private"]
        PrivacyEngine.make_private_with_epsilon = saved["make_private_with_epsilon"]
        GradSampleModule.__init__ = saved["gsm_init"]
        del opacus
    if how is None:
        return state["captured"]
    found = state["captured"]
    if found is not None and cause is not None:
        # The crash real training gets: in the engine call (Opacus refused the setup), or in the
        # statement that makes it, taking its result (three names unpacking the four values ghost
        # mode returns). A failure later in the script is the script's own: not verified.
        if cause is found.engine_error:
            return found
        if (_raised_at(cause, state.get("call_site")) or _raised_in_opacus(cause)
                or _hooks_used_as_model(cause, state.get("hooks_type"))):
            found.script_error = cause
            return found
    raise CaptureFailed(_ended(state, how)) from cause


def hooks_object(value: Any) -> bool:
    """Is `value` the hooks object `make_private*(..., wrap_model=False)` returns first (opacus >= 1.6)?"""
    try:
        import torch
        from opacus.grad_sample.gsm_base import AbstractGradSampleHooks
    except ImportError:
        return False
    # GradSampleModule derives from AbstractGradSampleHooks too: only a hooks object that is no
    # module is what `wrap_model=False` returns.
    return isinstance(value, AbstractGradSampleHooks) and not isinstance(value, torch.nn.Module)


def _hooks_used_as_model(cause: BaseException, hooks_type: str | None) -> bool:
    """The script called the hooks object, or a module method on it (`'GradSampleHooks' object is not
    callable`, `... has no attribute 'train'`): the crash real training gets, before any forward."""
    return hooks_type is not None and isinstance(cause, (TypeError, AttributeError)) and \
        f"'{hooks_type}' object" in str(cause)


def run_entry_point(words: list[str], cwd: str, stop: type[BaseException]) -> tuple[str | None, BaseException | None]:
    """Run `words` (a `python script.py args...` command) in this interpreter, in `cwd` with its
    own `sys.argv`, until it ends or raises `stop`. Returns (None, None) when `stop` ended it, else
    how it ended ("finished", "exited (status 1)", "failed: ValueError: ...") and the exception
    that ended it, if any. sys.argv, sys.path and the working directory are restored."""
    kind, what, argv = parse_command(words)
    old_argv, old_cwd, old_path = list(sys.argv), os.getcwd(), list(sys.path)
    try:
        os.chdir(cwd)
        sys.argv = argv
        if kind == "function":
            _call_function(what, cwd)
        elif kind == "path":
            script = os.path.abspath(what)
            if not os.path.isfile(script):
                raise CaptureFailed(f"the script {what} does not exist (in {cwd})")
            sys.path.insert(0, os.path.dirname(script))
            runpy.run_path(script, run_name="__main__")
        else:
            sys.path.insert(0, cwd)
            runpy.run_module(what, run_name="__main__", alter_sys=True)
    except CaptureFailed:
        raise
    except BaseException as exc:
        if isinstance(exc, stop):
            return None, None
        if isinstance(exc, SystemExit):
            return f"exited (status {exc.code})", None
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"failed: {type(exc).__name__}: {exc}", exc
    finally:
        sys.argv, sys.path[:] = old_argv, old_path
        os.chdir(old_cwd)
    return "finished", None


def _call_function(entry: str, cwd: str) -> None:
    """Import the module of `entry` (`pkg/train.py:main`: by its dotted name when the file lies
    under `cwd`, so that its package imports work; else by path) and call the function."""
    import importlib

    where, name = entry.rsplit(":", 1)
    sys.path.insert(0, cwd)
    if where.endswith(".py"):
        script = os.path.abspath(where)
        if not os.path.isfile(script):
            raise CaptureFailed(f"the script {where} does not exist (in {cwd})")
        relative = os.path.relpath(script, cwd)
        parts = relative[:-3].replace("\\", "/").split("/")
        if relative.startswith("..") or not all(part.isidentifier() for part in parts):
            sys.path.insert(0, os.path.dirname(script))
            namespace = runpy.run_path(script, run_name="__dp_lint_entry__")
            function = namespace.get(name)
        else:
            function = getattr(importlib.import_module(".".join(parts)), name, None)
    else:
        function = getattr(importlib.import_module(where), name, None)
    if not callable(function):
        raise CaptureFailed(f"{entry}: {name} is not a function of {where}")
    function()


def _raised_at(exc: BaseException, call_site: tuple[Any, int] | None) -> bool:
    """Was `exc` raised in the frame of the engine call, on the engine call's line?"""
    if call_site is None:
        return False
    frame, line = call_site
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame is frame:
            return tb.tb_next is None and tb.tb_lineno == line
        tb = tb.tb_next
    return False


def _raised_in_opacus(exc: BaseException) -> bool:
    """Did Opacus' own code raise `exc` (its traceback passes through the opacus package), as when a
    model left in eval mode reaches backward before any training forward?"""
    import opacus

    folder = os.path.dirname(os.path.abspath(opacus.__file__)) + os.sep
    tb = exc.__traceback__
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(folder):
            return True
        tb = tb.tb_next
    return False


def detached_copy(tensor: Any, _position: int) -> Any:
    """A batch tensor kept past the script's own use of it (for `map_tensors`)."""
    return tensor.detach().clone()


def _ended(state: dict[str, Any], how: str) -> str:
    if state["captured"] is None:
        return (f"the script {how} without calling make_private, make_private_with_epsilon or "
                "GradSampleModule (nothing to verify)")
    return f"the script {how} after {state['captured'].engine} but before the private model's first training forward pass"


def stepped_parameters(module: Any, optimizer: Any) -> list[str] | None:
    """The names of `module`'s trainable parameters that `optimizer` holds, when it holds only
    some of them; None when it holds them all, or when either is not what the engine expects.

    A script that gives make_private an optimizer over the head alone trains the head alone:
    the other parameters' per-sample gradients are never clipped nor stepped (make_private's
    DPOptimizer wraps the user's optimizer and its param_groups)."""
    named = getattr(module, "named_parameters", None)
    groups = getattr(optimizer, "param_groups", None)
    if not callable(named) or not isinstance(groups, list):
        return None
    try:
        held = {id(p) for group in groups for p in group.get("params", ())}
        trainable = [(name, p) for name, p in named() if p.requires_grad]
    except Exception:  # an optimizer or module of its own kind: nothing known
        return None
    stepped = [name for name, p in trainable if id(p) in held]
    return stepped if len(stepped) < len(trainable) else None


def bind_arguments(function: Any, self: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    import inspect

    try:
        bound = inspect.signature(function).bind(self, *args, **kwargs)
    except TypeError:
        return dict(kwargs)
    return dict(bound.arguments)
