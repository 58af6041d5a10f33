"""The product's features, one plugin each. pyproject.toml lists them in the `jingmin.plugins`
entry-point group (that order is the menu's); the core finds them there by name.

What the product promises officers, and which plugin must produce it (tests/test_plugins.py
fails when a loaded set of plugins leaves one without a producer):
"""

from __future__ import annotations

# Registers (storage.registers.REGISTERS) and the weekly report's lines (Plugin.report_line).
PRODUCT_REGISTERS = ("reception", "dispute")
# Which plugins fill each register: every consultation, booking, tip and suggestion is received at
# the post (接待服务登记簿); disputes have their own register.
REGISTER_PRODUCERS = {"reception": ("guide", "appointments", "tips", "suggestions"), "dispute": ("disputes",)}
PRODUCT_REPORT_LINES = ("tips", "appointments", "disputes")
