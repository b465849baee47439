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


def radiomics_features():
    import numpy as np
    import SimpleITK as sitk
    from radiomics import featureextractor

    image = sitk.GetImageFromArray(np.random.RandomState(0).rand(8, 8, 8) * 100)
    mask = sitk.GetImageFromArray(np.ones((8, 8, 8), dtype=np.uint8))
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
