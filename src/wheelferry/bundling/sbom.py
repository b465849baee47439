"""`sbom.cdx.json`: the wheelhouse as a CycloneDX 1.6 JSON SBOM, written with the CycloneDX
Python library (cyclonedx-python-lib): one component per shipped wheel (purl `pkg:pypi/...`,
the wheel's sha256, its licence), the platform's provided distributions as components marked
so, the dependency graph on the target, and the build provenance as `wheelferry:` properties."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.tool import Tool
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from packageurl import PackageURL

from wheelferry import __version__
from wheelferry.bundling.review import Distribution, Review

SCHEMA_VERSION = SchemaVersion.V1_6


def _component(dist: Distribution) -> Component:
    purl = PackageURL(type="pypi", name=dist.name, version=dist.version,
                      qualifiers={"file_name": dist.wheel} if dist.wheel else None)
    properties = [Property(name="wheelferry:origin", value=dist.origin)]
    if dist.origin == "provided":
        properties.append(Property(name="wheelferry:provided-by", value="the platform"))
    if dist.build is not None:
        build = dist.build
        properties += [
            Property(name="wheelferry:sdist", value=build.sdist),
            Property(name="wheelferry:sdist-sha256", value=build.sdist_sha256),
            Property(name="wheelferry:build-image", value=build.image),
            Property(name="wheelferry:build-image-digest", value=build.image_digest or "unknown"),
        ]
        properties += [Property(name="wheelferry:build-requires", value=item)
                       for item in (*build.build_requires, *build.discovered_build_requires,
                                    *build.dated_build_requires)]
        properties += [Property(name="wheelferry:system-package", value=item)
                       for item in build.system_packages]
        properties += [Property(name="wheelferry:grafted-library", value=item)
                       for item in build.grafted_libraries]
    for advisory in dist.advisories:
        properties.append(Property(name="wheelferry:advisory", value=advisory.id))
    if dist.origin != "provided":
        properties.append(Property(name="wheelferry:vulnerabilities", value=dist.vulnerabilities))
    licences = []
    if dist.licence and dist.licence_source not in ("", "unknown"):
        licences = [LicenseFactory().make_from_string(dist.licence)]
    return Component(
        type=ComponentType.LIBRARY, name=dist.name, version=dist.version,
        bom_ref=f"pkg:pypi/{dist.name}@{dist.version}", purl=purl,
        description=dist.summary or None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=dist.wheel_sha256)]
        if dist.wheel_sha256 else None,
        licenses=licences, properties=properties)


def build_bom(review: Review) -> Bom:
    root = Component(
        type=ComponentType.APPLICATION, name=f"{review.project} wheelhouse",
        version=review.sums_sha256[:12], bom_ref="wheelhouse",
        description=f"the wheelhouse for Python {review.platform.python_version} on "
        f"{review.platform.arch} Linux, installed at {review.platform.install_dir}",
        properties=[Property(name="wheelferry:sha256sums-sha256", value=review.sums_sha256),
                    Property(name="wheelferry:target-image", value=review.platform.image)])
    bom = Bom()
    bom.metadata.component = root
    bom.metadata.tools.tools.add(Tool(vendor="wheelferry", name="wheelferry",
                                      version=__version__))
    components = {d.name: _component(d) for d in review.distributions}
    for component in components.values():
        bom.components.add(component)
    bom.register_dependency(root, [components[d.name] for d in review.shipped])
    for dist in review.distributions:
        bom.register_dependency(components[dist.name],
                                [components[name] for name in dist.requires
                                 if name in components])
    return bom


def render(review: Review) -> str:
    """The SBOM as JSON text (stable: sorted keys, the review's time as the timestamp)."""
    bom = build_bom(review)
    bom.metadata.timestamp = datetime.fromisoformat(review.generated_at)
    # One serial number per wheelhouse and review time, so the same review gives the same file.
    bom.serial_number = uuid.uuid5(uuid.NAMESPACE_URL,
                                   f"wheelferry:{review.sums_sha256}:{review.generated_at}")
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def validate(text: str) -> str | None:
    """None when `text` is valid against the CycloneDX schema of SCHEMA_VERSION, else why not
    (needs the library's json-validation extra)."""
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SCHEMA_VERSION).validate_str(text)
    return None if error is None else str(error)
