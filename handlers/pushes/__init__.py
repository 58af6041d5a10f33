"""Scheduled pushes: notice library, /定时 time expressions."""
