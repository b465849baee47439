"""The clustering-2021 set on a desktop start: one real call per package."""

import sys
import traceback

failed = []


def check(name, call):
    """Run one real call of a package; one line per package, a traceback when it fails."""
    try:
        print(f"ok {name}: {call()}", flush=True)
    except Exception:
        failed.append(name)
        print(f"FAILED {name}:", flush=True)
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()


def points():
    import numpy as np

    rng = np.random.RandomState(0)
    return np.vstack([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])


def hdbscan_fit():
    import hdbscan

    labels = hdbscan.HDBSCAN(min_cluster_size=5).fit_predict(points())
    return f"{len(set(labels.tolist()) - {-1})} clusters"


def umap_fit():
    import umap

    return umap.UMAP(n_neighbors=5, n_epochs=20, random_state=0).fit_transform(points()).shape


def pynndescent_index():
    import pynndescent

    index = pynndescent.NNDescent(points(), n_neighbors=5, random_state=0)
    return index.neighbor_graph[0].shape


check("hdbscan", hdbscan_fit)
check("umap-learn", umap_fit)
check("pynndescent", pynndescent_index)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
