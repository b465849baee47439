"""The radiomics-ithscore set on a desktop start: one real call per package."""

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


def radiomics_features():
    import numpy as np
    import SimpleITK as sitk
    from radiomics import featureextractor

    image = sitk.GetImageFromArray(np.random.RandomState(0).rand(8, 8, 8) * 100)
    segmented = np.zeros((8, 8, 8), dtype=np.uint8)
    segmented[2:6, 2:6, 2:6] = 1
    mask = sitk.GetImageFromArray(segmented)
    extractor = featureextractor.RadiomicsFeatureExtractor()
    extractor.disableAllFeatures()
    extractor.enableFeatureClassByName("glcm")
    return f"{len(extractor.execute(image, mask))} features"


def sklearn_fit():
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    return f"predicts {model.predict([[2.5]]).tolist()}"


def matplotlib_plot():
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return f"{len(buffer.getvalue())} bytes of PNG"


def pydicom_dataset():
    from pydicom.dataset import Dataset

    dataset = Dataset()
    dataset.PatientName = "Doe^Jane"
    return str(dataset.PatientName)


check("numpy", lambda: __import__("numpy").ones(3).sum())
check("matplotlib", matplotlib_plot)
check("scikit-learn", sklearn_fit)
check("scipy", lambda: __import__("scipy.linalg").linalg.det([[1.0, 2.0], [3.0, 4.0]]))
check("six", lambda: __import__("six").moves.range(3))
check("pydicom", pydicom_dataset)
check("SimpleITK", lambda: __import__("SimpleITK").Image(4, 4, 0).GetSize())
check("pyradiomics", radiomics_features)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
