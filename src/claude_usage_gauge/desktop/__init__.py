"""The desktop shell: the tray adapter and its backends, notifications, start at login."""
