"""Estimation from a dask array computed on a real dask.distributed cluster (worker processes)."""
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream

import polymom_apps as pa
from polymom_apps import PolymomGaussianMixture
from polymom_apps.models import gaussian_nd


@pytest.fixture(scope="module")
def client():
    # two worker processes of one thread each: every chunk is pickled, shipped and reduced elsewhere
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as c:
        yield c


def test_estimate_on_a_local_cluster_is_the_in_memory_estimate(client):
    # the data are drawn on the workers (the client never holds them until the check below)
    rs = da.random.RandomState(0)
    n, chunk = 40_000, 5_000
    z = rs.random_sample(n, chunks=chunk) < 0.4
    means = da.where(z[:, None], np.array([-2.0, 0.0]), np.array([2.0, 1.0]))
    sd = da.where(z[:, None], 1.0, np.sqrt(0.5))
    Xd = means + sd * rs.standard_normal((n, 2), chunks=(chunk, 2))
    spec = gaussian_nd(2, "spherical")
    with get_task_stream(client) as ts:
        on_cluster = pa.estimate(spec, Xd, 2, random_state=0)
    workers = {t["worker"] for t in ts.data}
    assert len(workers) == 2 and len(ts.data) >= 2 * (n // chunk)    # both processes reduced chunks
    X = Xd.compute()
    in_memory = pa.estimate(spec, X, 2, random_state=0)
    assert on_cluster.success and in_memory.success
    np.testing.assert_allclose(on_cluster.moments, in_memory.moments, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(on_cluster.params, in_memory.params, atol=1e-7)
    np.testing.assert_allclose(on_cluster.weights, in_memory.weights, atol=1e-7)
    order = np.argsort(in_memory.params[:, 0])                      # and both near the truth
    np.testing.assert_allclose(in_memory.params[order], [[-2.0, 0.0, 1.0], [2.0, 1.0, 0.5]], atol=0.1)


def test_estimator_fits_a_dask_array_on_the_cluster(client):
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(-1.5, 1.0, (6000, 1)), rng.normal(1.5, 0.7, (9000, 1))])
    Xd = da.from_array(X, chunks=2500)
    a = PolymomGaussianMixture(2, random_state=0).fit(X)
    b = PolymomGaussianMixture(2, random_state=0).fit(Xd)
    np.testing.assert_allclose(b.means_, a.means_, atol=1e-7)
    np.testing.assert_allclose(b.covariances_, a.covariances_, atol=1e-7)
