"""The imaging-io set on a desktop start: one real call per package."""

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


def tiff_roundtrip():
    import io

    import numpy as np
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.arange(16, dtype=np.uint16).reshape(4, 4))
    buffer.seek(0)
    return int(tifffile.imread(buffer).sum())


def imageio_roundtrip():
    import imageio
    import numpy as np

    data = imageio.imwrite("<bytes>", np.zeros((4, 4), dtype=np.uint8), format="png")
    return f"{len(data)} bytes of PNG"


def nrrd_roundtrip():
    import os
    import tempfile

    import nrrd
    import numpy as np

    path = os.path.join(tempfile.mkdtemp(), "x.nrrd")
    nrrd.write(path, np.ones((2, 3)))
    return nrrd.read(path)[0].shape


def nibabel_image():
    import nibabel
    import numpy as np

    return nibabel.Nifti1Image(np.zeros((2, 2, 2), dtype=np.float32), np.eye(4)).shape


def pydicom_dataset():
    from pydicom.dataset import Dataset

    dataset = Dataset()
    dataset.PatientName = "Doe^Jane"
    return str(dataset.PatientName)


check("SimpleITK", lambda: __import__("SimpleITK").Image(4, 4, 0).GetSize())
check("nibabel", nibabel_image)
check("tifffile", tiff_roundtrip)
check("dicom2nifti", lambda: __import__("dicom2nifti.settings").settings.validate_orthogonal)
check("pydicom", pydicom_dataset)
check("imageio", imageio_roundtrip)
check("pynrrd", nrrd_roundtrip)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
