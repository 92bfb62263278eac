"""The admin page's charts in the page's dark colours, when the system asks for dark."""

from __future__ import annotations

from components import admin_charts


def test_in_dark_mode_every_chart_has_the_dark_panel_colours() -> None:
    for light, dark in zip(admin_charts.figures([]), admin_charts.figures([], dark=True), strict=True):
        assert light["layout"]["paper_bgcolor"] == "#fff"
        assert dark["layout"]["paper_bgcolor"] == dark["layout"]["plot_bgcolor"] == admin_charts.DARK["paper"]
        assert dark["layout"]["font"]["color"] == admin_charts.DARK["text"]
        axes = [v for k, v in dark["layout"].items() if k.startswith(("xaxis", "yaxis"))]
        assert all(axis["gridcolor"] == admin_charts.DARK["grid"] for axis in axes)
