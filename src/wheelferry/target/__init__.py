"""What the wheels are for: the target image checked and probed (image), the platform's own
image, what the platform provides, whether its C library loads the wheels (elfcheck), and the
platform's init.sh written from `onplatform/startup.py`. Imports the stages below it: `core`,
`project`, `engine`.
"""
