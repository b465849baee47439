"""The tracking-2021 set on a desktop start: one real call per package."""

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


def lap_solve():
    import lap
    import numpy as np

    cost, x, _ = lap.lapjv(np.array([[1.0, 2.0], [2.0, 1.0]]))
    return f"cost {cost}, assignment {x.tolist()}"


def bbox_overlaps():
    import numpy as np
    from cython_bbox import bbox_overlaps as overlaps

    boxes = np.array([[0, 0, 10, 10]], dtype=np.float64)
    return f"iou {float(overlaps(boxes, boxes)[0, 0]):.2f}"


def motmetrics_iou():
    import motmetrics

    return motmetrics.distances.iou_matrix([[0, 0, 1, 1]], [[0, 0, 1, 1]], max_iou=0.5).tolist()


def kalman():
    import numpy as np
    from filterpy.kalman import KalmanFilter

    kf = KalmanFilter(dim_x=2, dim_z=1)
    kf.F = np.array([[1.0, 1.0], [0.0, 1.0]])
    kf.H = np.array([[1.0, 0.0]])
    kf.predict()
    kf.update(np.array([1.0]))
    return f"state {[round(v, 3) for v in kf.x.ravel().tolist()]}"


check("lap", lap_solve)
check("cython_bbox", bbox_overlaps)
check("motmetrics", motmetrics_iou)
check("filterpy", kalman)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
