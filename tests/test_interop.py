"""Objects that implement __array_ufunc__ (dask, xarray) get the ufunc twins, so they stay lazy."""

import numpy as np
import pytest

import fastact


class Duck:
    """A minimal array-like that records the ufuncs it is handed."""

    def __init__(self, data):
        self.data = np.asarray(data)
        self.calls = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        self.calls.append(ufunc.__name__)
        args = [i.data if isinstance(i, Duck) else i for i in inputs]
        return Duck(getattr(ufunc, method)(*args, **kwargs))


def test_duck_arrays_receive_the_ufunc(default_case):
    case = default_case
    d = Duck(np.linspace(-3, 3, 7))
    r = case.forward(d, **case.kwargs)
    assert isinstance(r, Duck) and d.calls == [case.kernel]
    assert np.array_equal(r.data, case.forward(d.data, **case.kwargs))
    g = Duck(np.ones(7))
    rb = case.backward(g, d, **case.kwargs)
    assert isinstance(rb, Duck) and g.calls == [case.kernel + "_backward"]
    assert np.array_equal(rb.data, case.backward(g.data, d.data, **case.kwargs))


def test_ndarray_subclasses_are_kept():
    m = np.ma.masked_array([-1.0, 2.0, 3.0], mask=[0, 1, 0])
    r = fastact.gelu(m)
    assert isinstance(r, np.ma.MaskedArray) and r.mask[1]


def test_dask_stays_lazy(default_case):
    da = pytest.importorskip("dask.array")
    case = default_case
    x = np.linspace(-5, 5, 1000).reshape(10, 100)
    dx = da.from_array(x, chunks=(5, 50))
    r = case.forward(dx, **case.kwargs)
    assert isinstance(r, da.Array)
    assert np.array_equal(r.compute(), case.forward(x, **case.kwargs))
    rb = case.backward(da.ones_like(dx), dx, **case.kwargs)
    assert isinstance(rb, da.Array)
    assert np.array_equal(rb.compute(), case.backward(np.ones_like(x), x, **case.kwargs))


def test_xarray_keeps_dims():
    xr = pytest.importorskip("xarray")
    a = xr.DataArray(
        np.linspace(-3, 3, 12).reshape(3, 4),
        dims=("batch", "feature"),
        coords={"batch": [10, 20, 30]},
    )
    r = fastact.gelu(a)
    assert isinstance(r, xr.DataArray) and r.dims == ("batch", "feature")
    assert list(r.coords["batch"].values) == [10, 20, 30]
    assert np.array_equal(r.values, fastact.gelu(a.values))
    rb = fastact.elu_backward(xr.ones_like(a), a, alpha=0.5)
    assert rb.dims == a.dims
    assert np.array_equal(rb.values, fastact.elu_backward(np.ones((3, 4)), a.values, alpha=0.5))


def test_dask_distributed_cluster():
    """Forward and backward on a 2-worker-process LocalCluster (loopback), several chunks."""
    pytest.importorskip("dask.array")
    distributed = pytest.importorskip("dask.distributed")
    import dask.array as da

    x = np.random.default_rng(0).standard_normal((400, 300)).astype(np.float32) * 4
    g = np.random.default_rng(1).standard_normal((400, 300)).astype(np.float32)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        dx, dg = da.from_array(x, chunks=(100, 150)), da.from_array(g, chunks=(100, 150))
        assert dx.npartitions > 1
        y = fastact.gelu(dx, approximate="tanh")
        gi = fastact.gelu_backward(dg, dx, approximate="tanh")
        s = fastact.softplus(dx, beta=2.0)
        y, gi, s = client.compute([y, gi, s], sync=True)
        assert len(client.scheduler_info()["workers"]) == 2
    assert np.array_equal(y, fastact.gelu(x, approximate="tanh"))
    assert np.array_equal(gi, fastact.gelu_backward(g, x, approximate="tanh"))
    assert np.array_equal(s, fastact.softplus(x, beta=2.0))
