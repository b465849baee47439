"""Stage two: one wheel per pin, fetched or built in the target's toolchain container (fetch),
planned and stored (build), shared between projects (wheelcache), with OS packages for builds
(systemimage) and the platform's stand-in image. Imports the stages below it.
"""
