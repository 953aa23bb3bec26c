"""Bad input raises TypeError or ValueError naming the function, and writes nothing."""

import numpy as np
import pytest

import fastact


def _snapshot(*arrays):
    return [a.copy() for a in arrays]


def _assert_untouched(before, *arrays):
    for b, a in zip(before, arrays):
        assert np.array_equal(a, b, equal_nan=True)


def _call(case, backward, *args, **kw):
    fn = case.backward if backward else case.forward
    return fn(*args, **case.kwargs, **kw)


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize(
    "bad",
    [
        np.array([1 + 2j, 3j]),
        np.array([1, 2], dtype=object),
        np.array(["a", "b"]),
        np.array([1, 2], dtype="M8[s]"),
        np.array([1, 2], dtype=np.longdouble),
    ],
    ids=["complex", "object", "str", "datetime", "longdouble"],
)
def test_unsupported_dtypes(default_case, backward, bad):
    case = default_case
    name = case.act.name + ("_backward" if backward else "")
    out = np.zeros(2)
    before = _snapshot(out)
    args = (np.ones(2), bad) if backward else (bad,)
    with pytest.raises(TypeError, match=f"fastact.{name}: .*dtype"):
        _call(case, backward, *args, out=out)
    _assert_untouched(before, out)


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_bad_out(default_case, backward):
    case = default_case
    name = case.act.name + ("_backward" if backward else "")
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    args = (np.ones_like(x), x) if backward else (x,)
    before = _snapshot(x)

    with pytest.raises(TypeError, match=f"fastact.{name}: out must be a numpy.ndarray, got list"):
        _call(case, backward, *args, out=[0.0] * 12)

    for shape in [(4, 3), (12,), (3, 4, 1), (1, 4)]:
        out = np.full(shape, 7, np.float32)
        with pytest.raises(ValueError, match=f"fastact.{name}: out has shape"):
            _call(case, backward, *args, out=out)
        assert (out == 7).all()

    ro = np.full((3, 4), 7, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=f"fastact.{name}: out is read-only"):
        _call(case, backward, *args, out=ro)

    io = np.full((3, 4), 7, np.int32)  # a float result cannot go into integers
    with pytest.raises(TypeError, match=f"fastact.{name}: "):
        _call(case, backward, *args, out=io)
    assert (io == 7).all()
    _assert_untouched(before, x)


def test_bad_parameters(case):
    if not case.params:
        pytest.skip("no scalar parameters")
    pname = case.act.params[0][0]
    x = np.ones(4, np.float32)
    for bad in ["0.1", None, 1j, [0.1, 0.2]]:
        with pytest.raises(
            TypeError, match=f"fastact.{case.act.name}: {pname} must be a real number"
        ):
            case.forward(x, **{pname: bad})
        with pytest.raises(TypeError, match=f"fastact.{case.act.name}_backward: {pname} must be"):
            case.backward(x, x, **{pname: bad})


def test_unknown_approximate():
    x = np.ones(3)
    for bad in ["Tanh", "erf", None, 1]:
        with pytest.raises(
            ValueError, match="fastact.gelu: approximate must be one of 'none', 'tanh'"
        ):
            fastact.gelu(x, approximate=bad)
        with pytest.raises(ValueError, match="fastact.gelu_backward: approximate must be one of"):
            fastact.gelu_backward(x, x, approximate=bad)


def test_shapes_that_do_not_broadcast(default_case):
    case = default_case
    out = np.zeros(3)
    with pytest.raises(ValueError, match=f"fastact.{case.act.name}_backward: shapes"):
        case.backward(np.ones(3), np.ones(4), **case.kwargs, out=out)
    assert (out == 0).all()


def test_positional_only_and_keywords():
    x = np.ones(3)
    with pytest.raises(TypeError):
        fastact.relu(x=x)
    with pytest.raises(
        TypeError, match="fastact.leaky_relu: out must be a numpy.ndarray, got float"
    ):
        fastact.leaky_relu(x, 0.1, 0.2)  # the third positional argument is out
