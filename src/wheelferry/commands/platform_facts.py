"""What the command flows learn of the platform before they lock, build or prove: its image
probed, its glibc and shared libraries, what it provides, and the image a proof runs in when
its own image is not configured (the plain target, or a stand-in with what it provides)."""

from __future__ import annotations

from wheelferry.building import standin
from wheelferry.core.report import Reporter
from wheelferry.engine.protocol import Engine, ImageInfo
from wheelferry.project import layout as project
from wheelferry.project import manifest as mf
from wheelferry.project.options import Options
from wheelferry.project.requirements import merge
from wheelferry.target import image as targets
from wheelferry.target import platform_image
from wheelferry.target import provided as provided_mod


def probed(engine: Engine, options: Options,
           reporter: Reporter) -> platform_image.Platform | None:
    """The platform image, probed (once per image id), when one is configured."""
    if options.platform.image is None:
        return None
    with reporter.step(f"reading the platform image {options.platform.image}"):
        found = platform_image.probe(engine, options)
    reporter.info(f"the platform runs python {found.version} as {found.user} "
                  f"({found.libc} {found.libc_version}); it provides "
                  f"{len(found.provided.packages)} distributions")
    return found


def glibc(found: platform_image.Platform | None,
          provided: provided_mod.Provided | None = None) -> str | None:
    """The platform's glibc version, when the platform is known (its image, else its
    fingerprint) and uses glibc."""
    if found is None or found.libc != "glibc" or not found.libc_version:
        return provided.glibc if provided is not None and provided.glibc else None
    return found.libc_version


def libraries(found: platform_image.Platform | None,
              provided: provided_mod.Provided | None) -> tuple[str, ...] | None:
    """The sonames of the platform's shared libraries, when the platform is known (its image,
    else its fingerprint): a wheel built from an sdist carries those it links that it lacks."""
    if found is not None and found.libraries is not None:
        return found.libraries
    return provided.libraries if provided is not None else None


def provided(options: Options,
             found: platform_image.Platform | None) -> provided_mod.Provided | None:
    """What the platform provides: the freeze file, else what the platform image has."""
    from_file = provided_mod.from_file(options)
    if from_file is not None:
        return from_file
    if options.platform.provided_from_image and found is not None:
        return found.provided
    return None


def plain_platform(engine: Engine, options: Options, manifest: mf.Manifest,
                   reporter: Reporter) -> ImageInfo:
    """Without the platform's image: the plain target image, or, when the platform provides
    some of the pins (a freeze file), a stand-in with those installed as the platform has them."""
    if not manifest.provided:
        return engine.ensure_image(options.target.image, platform=options.target.engine_platform)
    pinned = dict(manifest.provided)
    pins = [pin for pin in merge(p for _, p in project.lock_pins(options))
            if pinned.get(pin.name) == str(pin.version)]
    target = targets.prepare(engine, options, reporter.info)
    described = provided_mod.from_file(options)
    if described is not None and described.python_version \
            and described.python_version != target.version:
        reporter.warn(f"the stand-in runs python {target.version} ({options.target.image}), the "
                      f"platform {described.python_version} ({described.source}): the proof "
                      "is as good as the two agree; an image with the platform's exact Python "
                      "makes it exact")
    with reporter.step(f"preparing a stand-in of the platform: {options.target.image} with the "
                       f"{len(pins)} provided package(s) installed as root (once)"):
        return standin.ensure(engine, options, target, pins, reporter)
