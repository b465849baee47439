"""Stage three: the proof that a wheelhouse installs and imports offline on a desktop start
(verify, the proof's report and its verdicts, the upstream check, known vulnerabilities), and
what a project remembers between runs (state). Imports the stages below it.
"""
