"""Rig files written from a simulated session: what a TDT, Doric, Neurophotometrics or pyPhotometry rig,
an EDF EEG/EMG system and a sleep-scoring program would write, with the session file that converts them.

They serve the simulator (``glymph simulate --format tdt``), the demo, the tests and the benchmarks.
"""
