import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests (tests/test_properties.py): `ci`, the default, is derandomized (the same examples
# on every run, under a minute here); `long` (--hypothesis-profile=long) is the thorough run.
_RELAXED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=400,
    deadline=None,
    suppress_health_check=_RELAXED,
    print_blob=True,
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None, suppress_health_check=_RELAXED, print_blob=True
)
settings.load_profile("ci")

# A pool of 4 threads whatever the machine, so that the parallel tests run 3 and 4 threads for
# real (fastact caps the threads asked for at the pool's size); set before Numba is imported.
os.environ.setdefault("NUMBA_NUM_THREADS", "4")

import fastact
from fastact._table import ACTIVATIONS
from fastact._ufunc_path import KERNEL_INDEX
from fastact.testing import KERNELS


class Case:
    """One kernel as the public API reaches it: fastact.<function>(..., <choice>=..., *params)."""

    def __init__(self, act, choice, kernel, params):
        self.act, self.choice, self.kernel, self.params = act, choice, kernel, params
        self.forward = getattr(fastact, act.name)
        self.backward = getattr(fastact, act.name + "_backward")
        self.ufunc = getattr(fastact.ufuncs, kernel)
        self.ufunc_backward = getattr(fastact.ufuncs, kernel + "_backward")

    @property
    def kwargs(self):
        kw = {p: v for (p, _), v in zip(self.act.params, self.params)}
        if self.act.choice is not None:
            kw[self.act.choice[0]] = self.choice
        return kw

    def __repr__(self):
        return f"{self.kernel}{self.params or ''}"


CASES = [
    Case(a, c, k, p) for a in ACTIVATIONS for c, k in a.kernels.items() for p in KERNELS[k].params
]
DEFAULT_CASES = [c for c in CASES if c.params == KERNELS[c.kernel].params[0]]
assert set(KERNEL_INDEX) <= {c.kernel for c in CASES}, "a kernel has no test case"


@pytest.fixture(params=CASES, ids=repr)
def case(request):
    return request.param


@pytest.fixture(params=DEFAULT_CASES, ids=repr)
def default_case(request):
    return request.param


@pytest.fixture(autouse=True)
def _no_warnings(recwarn):
    """Kernels must not warn (NaN compares, overflow in a discarded branch)."""
    yield
    bad = [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert not bad, [str(w.message) for w in bad]
