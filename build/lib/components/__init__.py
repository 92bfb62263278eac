"""Dash page panels. Each module has ``render()``; callbacks register on import.

Audio never passes through Dash callbacks: the recorder, player and WebSocket client
live in ``assets/`` and update these components with ``dash_clientside.set_props``.
"""
