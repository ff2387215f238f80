"""The native Linux desktop over the session D-Bus: a StatusNotifierItem with its dbusmenu, and
desktop notifications. No GTK and no X display: a D-Bus connection is all it needs.

jeepney (pure Python, no dependencies of its own, already installed with keyring's Linux
backends) encodes and decodes the messages; the modules here add the loop, the exported objects
and the three protocols.
"""
