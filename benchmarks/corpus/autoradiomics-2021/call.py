"""The autoradiomics-2021 set on a desktop start: one real call per package."""

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


def nibabel_image():
    import nibabel
    import numpy as np

    image = nibabel.Nifti1Image(np.zeros((2, 2, 2), dtype=np.float32), np.eye(4))
    return image.shape


def xgboost_fit():
    import numpy as np
    import xgboost

    model = xgboost.XGBClassifier(n_estimators=2, use_label_encoder=False)
    model.fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    return f"predicts {model.predict(np.array([[2.5]])).tolist()}"


def radiomics_extractor():
    from radiomics import featureextractor

    return type(featureextractor.RadiomicsFeatureExtractor()).__name__


check("matplotlib", lambda: __import__("matplotlib").colors.to_hex("red"))
check("numpy", lambda: __import__("numpy").ones(3).sum())
check("pyradiomics", radiomics_extractor)
check("nibabel", nibabel_image)
check("SimpleITK", lambda: __import__("SimpleITK").Image(4, 4, 0).GetSize())
check("xgboost", xgboost_fit)
check("lofo-importance", lambda: __import__("lofo").LOFOImportance.__name__)
check("plotly", lambda: type(__import__("plotly.graph_objects").graph_objects.Figure()).__name__)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
