"""Code that runs on the platform, not here: stdlib only, pasted into init.sh or a bundle
(startup, unbundle with platformdir, reviewsummary) or run there by the user (fingerprint).
Imports nothing of wheelferry (a bundle strips the imports between these modules).
"""
