"""预约办理: importing the package registers every part on `handlers.appointments.plugin.plugin`.
The order matters once: officer declares the /预约 command before export adds its 导出."""

from handlers.appointments import dialog, resident, officer, export, reminders  # noqa: F401  # isort: skip
