"""Ant Design's theme for every page: a primary blue dark enough for white text (WCAG AA,
6:1; Ant Design's own #1677ff is 4.1:1), light or dark as the system asks
(``assets/theme.js``)."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output
from dash.development.base_component import Component

from components.callbacks import clientside_callback

PRIMARY = "#0958d9"
DEFAULT_LOCALE = "en-us"
# Ant Design's own words (a select's "no data", a drawer's close) where it has the language.
LOCALES = {"de": "de-de", "fr": "fr-fr", "zh": "zh-cn"}


def locale_of(language: str) -> str:
    return LOCALES.get(language, DEFAULT_LOCALE)


def provider(children: list[Component]) -> fac.AntdConfigProvider:
    return fac.AntdConfigProvider(id="theme", primaryColor=PRIMARY, algorithm="default",
                                  locale=DEFAULT_LOCALE, children=children)


clientside_callback(
    ClientsideFunction(namespace="theme", function_name="follow"),
    Output("theme", "algorithm"),
    Input("page-location", "pathname"),
)
