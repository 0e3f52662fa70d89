"""From an execute body's `inArguments` to the engine's message.

`inArguments` is an array of one-key objects (the activity's saved configuration, with Journey Builder's
data bindings resolved). The keys the message activity understands:

    channel                   sms, lms, mms, whatsapp, viber, kakao-alim, kakao-chingu, rcs (required)
    phone                     repeatable: the contact's phone-type fields; the first populated one is used
    content                   the channel's content object (as for POST /v1/messages), with %%Field%%
                              placeholders for contact fields
    sender, account           sender name; which of the business unit's Infobip accounts sends it
    urlOptions                {shortenUrl, trackClicks, removeProtocol, customDomain}
    speedLimit                {amount: 1-100000, timeUnit: MINUTE|HOUR|DAY}: per journey version and activity
    validityPeriod            {amount, timeUnit}
    customCallbackData        [{name, value}] (values may use %%Field%% placeholders)
    activityName              the activity's name when it was configured: the bulk id, unless it is the
                              default name, when the channel's "Infobip SMS"-style default is used
    triggerEventOnResponse    {eventDefinitionKey}: a reply fires this journey API event for the contact
    journeyName, versionNumber   go into the callback data when given
Any other key is a contact field (e.g. {"FirstName": "{{Contact.Attribute.Audience.FirstName}}"}), for the
placeholders.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

from channel_engine import (
    HostRef,
    MessageOptions,
    OutboundMessage,
    SpeedLimit,
    UrlOptions,
    ValidityPeriod,
    new_message_id,
)

HOST = "sfmc"  # the host name on every message an activity sends
RESERVED = frozenset(
    {
        "channel", "phone", "content", "sender", "account", "urlOptions", "speedLimit", "validityPeriod",
        "customCallbackData", "activityName", "triggerEventOnResponse", "journeyName", "versionNumber",
        "mid",
    }
)  # fmt: skip
# The seeds' restricted names: the engine's own callback data uses them.
RESTRICTED_CALLBACK_NAMES = (
    "ActivityId", "BulkId", "From", "Message", "JourneyName", "ContactKey", "MID", "VersionId",
    "VersionNumber", "TemplateName",
)  # fmt: skip
FORBIDDEN_NAME_CHARACTERS = re.compile(r'["\\\x00-\x1f\x7f]')
PLACEHOLDER = re.compile(r"%%([A-Za-z0-9_.\-]+)%%")
DEFAULT_ACTIVITY_NAMES = frozenset({"", "Infobip Message", "Infobip Messaging"})
BULK_ID_BY_CHANNEL = {
    "sms": "Infobip SMS",
    "lms": "Infobip LMS",
    "mms": "Infobip MMS",
    "viber": "Infobip Viber",
    "kakao-alim": "Infobip Kakao",
    "kakao-chingu": "Infobip Kakao",
    "whatsapp": "Infobip WhatsApp",
    "rcs": "Infobip RCS",
}
CALLBACK_TEXT_MAX = 160  # the message text in the callback data is cut here, as a preview


class DesignError(ValueError):
    """The activity's configuration (not the contact's data) is wrong: names the inArgument and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class ExecuteCall:
    """The identifying parts of an execute body."""

    activity_id: str
    journey_id: str
    activity_instance_id: str
    definition_instance_id: str
    contact_key: str
    arguments: dict[str, Any]
    phones: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, body: dict[str, Any]) -> ExecuteCall:
        raw = body.get("inArguments")
        if not isinstance(raw, list):
            raise DesignError("inArguments", "must be an array of one-key objects")
        arguments: dict[str, Any] = {}
        phones: list[str] = []
        for i, entry in enumerate(raw):
            if not isinstance(entry, dict):
                raise DesignError(f"inArguments[{i}]", "must be an object")
            if "phone" not in entry:  # all but the phone fields: taken whole, in C
                arguments.update(entry)
                continue
            for key, value in entry.items():
                if key == "phone":
                    phones.append(value if isinstance(value, str) else "")
                else:
                    arguments[key] = value
        return cls(
            activity_id=str(body.get("activityObjectID") or body.get("activityId") or ""),
            journey_id=str(body.get("journeyId") or ""),
            activity_instance_id=str(body.get("activityInstanceId") or ""),
            definition_instance_id=str(body.get("definitionInstanceId") or ""),
            contact_key=str(body.get("keyValue") or ""),
            arguments=arguments,
            phones=phones,
        )

    def retry_key(self, mid: str) -> str:
        """The same execute (business unit, activity instance and contact) always has the same key, so a
        retried execute stores nothing twice and answers the first one's message id; anything else gets a
        new one. Journey Builder retries within seconds, so the store's window of retry keys is enough."""
        parts = (
            mid,
            self.activity_id,
            self.contact_key,
            self.activity_instance_id,
            self.definition_instance_id,
        )
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    @property
    def destination(self) -> str | None:
        """The first populated phone-type field, as the seeds describe for audiences with several."""
        for phone in self.phones:
            if phone and (phone := phone.strip()):
                return phone
        return None

    @property
    def fields(self) -> dict[str, str]:
        return {k: "" if v is None else str(v) for k, v in self.arguments.items() if k not in RESERVED}


def _merge(value: Any, fields: dict[str, str]) -> Any:
    if isinstance(value, str):
        if "%%" not in value:  # most texts of a design are fixed: no regular expression to run
            return value
        return PLACEHOLDER.sub(lambda m: fields.get(m.group(1), ""), value)
    if isinstance(value, list):
        return [_merge(v, fields) for v in value]
    if isinstance(value, dict):
        return {k: _merge(v, fields) for k, v in value.items()}
    return value


def unbound_placeholders(arguments: dict[str, Any]) -> list[str]:
    """Placeholders in the content or callback data with no contact field bound to them: a design error
    the validate and publish calls report, instead of sending "Hello ," to a whole audience."""
    fields = {k for k in arguments if k not in RESERVED}
    used = PLACEHOLDER.findall(
        msgspec.json.encode([arguments.get("content"), arguments.get("customCallbackData")]).decode()
    )
    return sorted(set(used) - fields)


def _struct(arguments: dict[str, Any], key: str, kind: type) -> Any:
    value = arguments.get(key)
    if value in (None, False, {}):
        return None
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise DesignError(key, str(exc)) from None


def custom_callback_data(arguments: dict[str, Any], fields: dict[str, str]) -> dict[str, str]:
    raw = arguments.get("customCallbackData") or []
    if isinstance(raw, dict):
        raw = [{"name": k, "value": v} for k, v in raw.items()]
    if not isinstance(raw, list):
        raise DesignError("customCallbackData", "must be a list of {name, value} objects")
    out: dict[str, str] = {}
    for i, entry in enumerate(raw):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise DesignError(f"customCallbackData[{i}].name", "is missing")
        if name in RESTRICTED_CALLBACK_NAMES:
            raise DesignError(
                f"customCallbackData[{i}].name",
                f"{name!r} is reserved for the engine's own callback data "
                f"({', '.join(RESTRICTED_CALLBACK_NAMES)})",
            )
        if FORBIDDEN_NAME_CHARACTERS.search(name):
            raise DesignError(
                f"customCallbackData[{i}].name",
                "must not contain double quotes, backslashes or control characters",
            )
        out[name] = str(_merge(entry.get("value", ""), fields))
    return out


def bulk_id(channel: str, activity_name: Any) -> str:
    name = activity_name.strip() if isinstance(activity_name, str) else ""
    if name in DEFAULT_ACTIVITY_NAMES:
        return BULK_ID_BY_CHANNEL.get(channel, f"Infobip {channel}")
    return name[:100]


def _preview(content: dict[str, Any]) -> tuple[str | None, str | None]:
    """The message text and template name the engine's callback data carries."""
    text = content.get("text") or content.get("body")
    template = content.get("templateName")
    return (text[:CALLBACK_TEXT_MAX] if isinstance(text, str) else None), (
        template if isinstance(template, str) else None
    )


def build_message(call: ExecuteCall, mid: str, account: str | None) -> OutboundMessage:
    """The engine message for one contact. Raises DesignError for a configuration the activity cannot
    use; the contact's own data is left for the channel's validation to judge."""
    args = call.arguments
    channel = args.get("channel")
    if not isinstance(channel, str) or not channel:
        raise DesignError("channel", "is missing: the activity must name its channel")
    fields = call.fields
    content = _merge(args.get("content") or {}, fields)
    if not isinstance(content, dict):
        raise DesignError("content", "must be an object")
    speed = _struct(args, "speedLimit", SpeedLimit)
    if speed is not None:
        # Per journey version and activity, as the seeds say: a new version starts its own count.
        speed = msgspec.structs.replace(speed, key=f"sfmc:{mid}:{call.journey_id}:{call.activity_id}")
    bulk = bulk_id(channel, args.get("activityName"))
    text, template = _preview(content)
    own = {
        "MID": mid,
        "ActivityId": call.activity_id,
        "ContactKey": call.contact_key,
        "BulkId": bulk,
        "VersionId": call.journey_id,
        "JourneyName": args.get("journeyName"),
        "VersionNumber": args.get("versionNumber"),
        "From": args.get("sender"),
        "TemplateName": template,
        "Message": text,
    }
    callback = {k: v for k, v in own.items() if v not in (None, "")} | custom_callback_data(args, fields)
    trigger = args.get("triggerEventOnResponse")
    event_key = trigger.get("eventDefinitionKey") if isinstance(trigger, dict) else None
    context = {
        "mid": mid,
        "activityId": call.activity_id,
        "journeyId": call.journey_id,
        "contactKey": call.contact_key,
    }
    if event_key:
        context["eventDefinitionKey"] = str(event_key)
    return OutboundMessage(
        channel=channel,
        destination=call.destination,
        sender=args.get("sender") or None,
        content=content,
        options=MessageOptions(
            url_options=_struct(args, "urlOptions", UrlOptions),
            speed_limit=speed,
            validity_period=_struct(args, "validityPeriod", ValidityPeriod),
            callback_data=msgspec.json.encode(callback).decode(),
            bulk_id=bulk,
        ),
        host=HostRef(name=HOST, context=context),
        account=account,
        id=new_message_id(),
        retry_key=call.retry_key(mid),
    )
