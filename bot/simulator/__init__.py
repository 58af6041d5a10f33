"""A simulated WeChat: an in-memory world served over the wechaty puppet-service gRPC protocol."""

from bot.simulator.puppet import PuppetSimulator, SimulatorOptions
from bot.simulator.world import SentMessage, SimContact, SimMessage, SimRoom, SimWorld

__all__ = ["PuppetSimulator", "SentMessage", "SimContact", "SimMessage", "SimRoom", "SimWorld", "SimulatorOptions"]
