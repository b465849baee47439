"""Code that runs on the platform, not here: stdlib only, pasted into init.sh or a bundle
(startup with install_link and platform_drift, unbundle with platformdir, reviewsummary) or run
there by the user (fingerprint). Imports nothing of wheelferry but each other and the pieces of
everywhere/, each name by name (`from wheelferry.everywhere.checksums import sha256_file`): the
pasting strips those imports and pastes the everywhere/ modules they name ahead of them.
"""
