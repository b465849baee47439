"""The radiomics-seed set on a desktop start: one real call per package."""

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
    extractor.enableFeatureClassByName("firstorder")
    extractor.enableFeatureClassByName("glcm")
    features = extractor.execute(image, mask)
    contrast = float(features["original_glcm_Contrast"])
    return f"{len(features)} features, glcm Contrast {contrast:.3f}"


check("pyradiomics", radiomics_features)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
