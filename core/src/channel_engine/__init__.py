"""Channel Engine: a self-hosted connector between marketing/service platforms and Infobip.

This module is the public API that plugins may use; everything else is internal.
"""

from . import checks, documents, envelope, hosting
from .batching import Batcher
from .channel_plugin import ChannelPlugin
from .errors import ChannelEngineError, ConfigError, PluginError, ProviderError
from .hookspecs import hookimpl
from .hosting import HostApp, HostServices, MsgspecResponse, PluginData
from .intake import new_message_id
from .models import (
    DataEntry,
    HostRef,
    MessageOptions,
    Money,
    OutboundMessage,
    Problem,
    ProviderRequest,
    Report,
    SendOutcome,
    SpeedLimit,
    UrlOptions,
    ValidityPeriod,
    WebhookUrls,
    is_final_status,
)
from .problems import MESSAGE_STATUS, SUCCESS_STATUS, problem, warning
from .registry import Channel, Host
from .reports import click_report, inbound_message, outbound_report, parse_send_statuses, status_fields
from .webhooks import signature_matches

__all__ = [
    "MESSAGE_STATUS",
    "SUCCESS_STATUS",
    "Batcher",
    "Channel",
    "ChannelEngineError",
    "ChannelPlugin",
    "ConfigError",
    "DataEntry",
    "Host",
    "HostApp",
    "HostRef",
    "HostServices",
    "MessageOptions",
    "Money",
    "MsgspecResponse",
    "OutboundMessage",
    "PluginData",
    "PluginError",
    "Problem",
    "ProviderError",
    "ProviderRequest",
    "Report",
    "SendOutcome",
    "SpeedLimit",
    "UrlOptions",
    "ValidityPeriod",
    "WebhookUrls",
    "checks",
    "click_report",
    "documents",
    "envelope",
    "hookimpl",
    "hosting",
    "inbound_message",
    "is_final_status",
    "new_message_id",
    "outbound_report",
    "parse_send_statuses",
    "problem",
    "signature_matches",
    "status_fields",
    "warning",
]
