"""警民群助手 (jingmin): the transport-neutral bot core."""

__version__ = "0.1.0"
