"""Scheduled pushes: notice library, /定时 time expressions.

The Plugin object is `handlers.pushes.plugin.plugin`; importing the package registers everything
on it. Order matters: /反诈 (push_now) is declared before its subcommands (notice_commands), and
the commands come in /帮助 in the order they are declared.
"""

from handlers.pushes import plugin  # noqa: F401  (first: the others register on it)
from handlers.pushes import schedule_commands  # noqa: F401
from handlers.pushes import push_now  # noqa: F401
from handlers.pushes import notice_commands  # noqa: F401
from handlers.pushes import jobs  # noqa: F401
