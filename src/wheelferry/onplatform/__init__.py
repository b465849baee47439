"""Code that runs on the platform, not here: stdlib only, pasted into init.sh or a bundle
(startup with install_link and platform_drift, unbundle with platformdir, reviewsummary) or run
there by the user (fingerprint). Imports nothing of wheelferry but each other (the pasting
strips the imports between these modules).
"""
