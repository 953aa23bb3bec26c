"""The public API, generated from the table: fastact.<name> and fastact.<name>_backward for every
activation, with exact signatures and docstrings (like namedtuple, by exec of their source)."""

import numpy as np

from . import _kernels
from ._table import ACTIVATIONS
from ._ufunc_path import KERNEL_INDEX

_FORWARD_DOC = """{name}(x, /{sig}, out=None, *, precision=None)

{name}(x) = {formula}.

Works like a NumPy ufunc: x is any array-like; float16, float32 and float64 are computed in
their own dtype (float16 through float32); integer and bool inputs are taken as float64 (relu
keeps them).
Returns the result; with ``out`` it writes there (``out`` may be ``x``) and returns ``out``.
``precision``: 'fast' (float32 within 2 ulp) or 'accurate' (within 1 ulp); None, the default, is
the level in force (fastact.set_precision, fastact.precision). float64 is always accurate.
Real ufunc twin{twins}: fastact.ufuncs.{kernels}.
"""

_BACKWARD_DOC = """{name}_backward(grad_output, x, /{sig}, out=None, *, output=None, precision=None)

grad_output times the derivative of {name} at x: {derivative}.
NaN wherever x is NaN. ``out`` may be ``grad_output`` or ``x``.
``precision``: as for {name}; float32 within 4 ulp ('fast') or 2 ulp ('accurate').
{from_output}
Real ufunc twin{twins}: fastact.ufuncs.{bkernels}.
"""


def _bad_choice(name, choice, options, value):
    raise ValueError(
        f"fastact.{name}: {choice} must be one of {', '.join(map(repr, options))}, got {value!r}"
    )


def output_allowed(act, values):
    """None if act's backward may start from its output with these parameter values, else why."""
    if act.from_output_when is None:
        return act.no_output
    if act.from_output_when is True:
        return None
    value = dict(zip((p for p, _ in act.params), values)).get(act.from_output_when)
    try:
        positive = value is None or value > 0
    except TypeError:  # not a number: the kernel's call names the problem
        return None
    if not positive:
        return (
            f"{act.from_output_when}={value!r} is not positive, so the output does not determine "
            f"the sign of x"
        )
    return None


def _from_output(act, k, grad_output, x, output, out, p0, p1, precision):
    name = act.name + "_backward"
    if x is not None:
        raise TypeError(f"fastact.{name}: give x or output=, not both")
    why = output_allowed(act, (p0, p1))
    if why:
        raise ValueError(f"fastact.{name}: cannot start from the output: {why}; pass x instead")
    return _kernels.backward(k, grad_output, output, out, p0, p1, True, precision)


def _need_x(name):
    raise TypeError(f"fastact.{name}: x (or output=) is required")


def _make_functions(act):
    """fastact.<name> and <name>_backward with the exact signatures, generated like namedtuple's."""
    sig = "".join(f", {p}={d!r}" for p, d in act.params)
    args = [p for p, _ in act.params] + ["0.0"] * (2 - len(act.params))
    ns = {
        "_forward": _kernels.forward,
        "_backward": _kernels.backward,
        "_bad_choice": _bad_choice,
        "_from_output": _from_output,
        "_need_x": _need_x,
        "_NUMBER": (float, int, np.float64, np.float32),
        "_act": act,
    }
    if act.choice is None:
        pick, kernel = "", str(KERNEL_INDEX[act.kernels[None]])
    else:
        cname, cdefault = act.choice
        sig += f", {cname}={cdefault!r}"
        ns["_choices"] = {c: KERNEL_INDEX[k] for c, k in act.kernels.items()}
        pick = (
            f"    k = _choices.get({cname}) if type({cname}) is str else None\n"
            f"    if k is None:\n"
            f"        _bad_choice({{fn}}, {cname!r}, tuple(_choices), {cname})\n"
        )
        kernel = "k"
    params = ", ".join(args)
    # the refusals (x given too, a parameter that does not allow it) go through _from_output, which
    # raises them; the allowed call goes straight to the kernel (0.3-0.6 us less per call)
    when = act.from_output_when
    refuse = "True" if when is None else "x is not None"
    if isinstance(when, str):  # a plain positive number passes; anything else is looked at there
        refuse += f" or type({when}) not in _NUMBER or not {when} > 0"
    src = (
        f"def {act.name}(x, /{sig}, out=None, *, precision=None):\n"
        + pick.format(fn=repr(act.name))
        + f"    return _forward({kernel}, x, out, {params}, precision)\n"
        f"def {act.name}_backward(grad_output, x=None, /{sig}, out=None, *, output=None,"
        f" precision=None):\n"
        + pick.format(fn=repr(act.name + "_backward"))
        + f"    if output is not None:\n"
        f"        if {refuse}:\n"
        f"            return _from_output(_act, {kernel}, grad_output, x, output, out, {params},"
        f" precision)\n"
        f"        return _backward({kernel}, grad_output, output, out, {params}, True, precision)\n"
        f"    if x is None:\n"
        f"        _need_x({act.name + '_backward'!r})\n"
        f"    return _backward({kernel}, grad_output, x, out, {params}, False, precision)\n"
    )
    exec(src, ns)
    fwd, bwd = ns[act.name], ns[act.name + "_backward"]
    kernels = list(act.kernels.values())
    if act.from_output_when is None:
        from_output = f"output= is refused: {act.no_output}."
    else:
        cond = "" if act.from_output_when is True else f" (when {act.from_output_when} > 0)"
        from_output = (
            f"With ``output=y`` instead of x, where y = {act.name}(x), the same result"
            f" from the output alone{cond}, so the forward may overwrite x."
        )
    fmt = dict(
        name=act.name,
        sig=sig,
        formula=act.formula,
        derivative=act.derivative,
        twins="s" if len(kernels) > 1 else "",
        kernels=", ".join(kernels),
        bkernels=", ".join(k + "_backward" for k in kernels),
        from_output=from_output,
    )
    fwd.__doc__, bwd.__doc__ = _FORWARD_DOC.format(**fmt), _BACKWARD_DOC.format(**fmt)
    fwd.__module__ = bwd.__module__ = "fastact"
    return fwd, bwd


FUNCTIONS = {}
for _act in ACTIVATIONS:
    FUNCTIONS[_act.name], FUNCTIONS[_act.name + "_backward"] = _make_functions(_act)
