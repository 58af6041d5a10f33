"""服务指南 and 业务咨询: the plugin (plugin.py), its built-in library (library.yaml, library.py), the
retrieval that places a question (retrieval.py), officers' /指南 commands (commands.py), texts."""

from handlers.guide.plugin import (  # noqa: F401
    FOLLOWUP, GUIDE, GuideEntry, GuideIndex, handling, plugin, topic_of,
)
from handlers.guide.texts import REGISTER_TEXTS, TEXTS  # noqa: F401
from handlers.guide import commands  # noqa: F401,E402  (registers /指南 on the plugin)
from handlers.guide import evaluate  # noqa: F401,E402  (registers `jingmin guide-eval`)
