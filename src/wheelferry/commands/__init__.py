"""The commands as the core offers them: options in, the stages run in order, work done, errors
raised (flows), and the commands that stand apart (init, status, cache). Imports every stage;
never invoke.
"""
