"""The message activity's contract with Journey Builder: JWT-signed bodies, 200 with the seeds' exact
messageStatus for anything about the contact or the design, lifecycle calls that block a bad design."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import msgspec
import pytest

from channel_engine.demo import demo_channels
from channel_engine.plugins import get_plugin_manager
from channel_engine_sfmc.testing.journeys import SIGNING_SECRET, Journey, in_arguments, journey, sign

CHANNELS = demo_channels(get_plugin_manager())


@pytest.fixture
async def trip(tmp_path: Path) -> Any:
    async with journey(tmp_path) as j:
        yield j


def sample(trip: Journey, channel: str, destination: str = "41791234000") -> dict[str, Any]:
    message = trip.harness.engine.plugins.hook.sample_message(
        channel=channel, index=1, destination=destination, with_link=False
    )
    return {
        "channel": channel,
        "phone": message["destination"],
        "content": message["content"],
        "sender": message.get("sender"),
    }


def changed(arguments: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with `content.a.b` (or a top-level key) set to `value`."""
    out = copy.deepcopy(arguments)
    *parents, last = path.split(".")
    target = out
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[last] = value
    return out


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_contact_without_a_phone_gets_the_seeds_status_not_an_ejection(
    trip: Journey, channel: str
) -> None:
    answer = await trip.execute("no-phone", **(sample(trip, channel) | {"phone": ["", None]}))
    assert answer == {"messageStatus": "Error: Missing phone number in request", "messageId": ""}


# (channel, what to change, value, the seeds' messageStatus)
SEED_ERRORS = [
    ("sms", "content.text", "", "Error: Invalid text length"),
    ("viber", "content.text", "x" * 1001, "Error: Invalid text length"),
    ("whatsapp", "content.templateName", "", "Error: Invalid template name"),
    ("viber", "content.label", "LOUD", "Error: Invalid promotional flag"),
    ("viber", "content.imageUrl", "https://i.example.com/" + "x" * 3000, "Error: Invalid image url length"),
    ("viber", "sender", "", "Error: Invalid from field"),
    ("whatsapp", "sender", "not a number", "Error: Invalid from field"),
    ("kakao-chingu", "sender", "", "Error: Invalid from field"),
    ("viber", "content.button.url", "https://b.example.com/" + "x" * 999, "Error: Invalid button url length"),
    ("viber", "content.button.title", "x" * 31, "Error: Invalid button text length"),
    ("kakao-chingu", "content.buttons.0.name", "x" * 15, "Error: Invalid button text length"),
    ("kakao-chingu", "content.buttons", [{"type": "URL", "name": "b", "urlMobile": "https://e.com"}] * 6,
     "Error: Invalid buttons field length"),
    ("kakao-chingu", "content.buttons.1.schemeAndroid", "x" * 1001,
     "Error: Invalid androidScheme and iosScheme length"),
]  # fmt: skip


@pytest.mark.parametrize(("channel", "path", "value", "status"), SEED_ERRORS)
async def test_contact_or_design_errors_answer_200_with_the_seeds_exact_status(
    trip: Journey, channel: str, path: str, value: Any, status: str
) -> None:
    answer = await trip.execute("contact-x", **changed(sample(trip, channel), path, value))
    assert answer == {"messageStatus": status, "messageId": ""}


async def test_problems_without_seed_text_still_answer_200_with_a_reason(trip: Journey) -> None:
    arguments = sample(trip, "sms") | {"customCallbackData": [{"name": "Big", "value": "x" * 4000}]}
    answer = await trip.execute("contact-cb", **arguments)
    assert (
        answer["messageStatus"].startswith("Error: callbackData has ")
        and "at most 4000" in answer["messageStatus"]
    )
    reserved = await trip.execute(
        "c", **(sample(trip, "sms") | {"customCallbackData": [{"name": "ContactKey", "value": "1"}]})
    )
    assert reserved["messageStatus"].startswith("Error: customCallbackData[0].name: 'ContactKey' is reserved")
    quoted = await trip.execute(
        "c", **(sample(trip, "sms") | {"customCallbackData": [{"name": 'a"b', "value": "1"}]})
    )
    assert "double quotes" in quoted["messageStatus"]
    speed = await trip.execute(
        "c", **(sample(trip, "sms") | {"speedLimit": {"amount": 0, "timeUnit": "HOUR"}})
    )
    assert speed["messageStatus"].startswith("Error: speedLimit: Expected `int` >= 1")
    no_channel = await trip.execute("c", phone="41791234000")
    assert no_channel["messageStatus"] == "Error: channel: is missing: the activity must name its channel"


async def test_custom_callback_data_joins_the_engines_own(trip: Journey) -> None:
    arguments = sample(trip, "sms") | {
        "customCallbackData": [{"name": "Segment", "value": "%%Tier%%"}],
        "Tier": "gold",
        "journeyName": "Welcome",
    }
    answer = await trip.execute("contact-cb", **arguments)
    await trip.harness.simulator.wait_reported([answer["messageId"]])
    send = trip.harness.simulator.accepted[answer["messageId"]]
    callback = msgspec.json.decode(send.callback_data)
    assert callback["Segment"] == "gold" and callback["ContactKey"] == "contact-cb"
    assert callback["MID"] == trip.mid and callback["JourneyName"] == "Welcome"
    assert callback["ActivityId"] == trip.activity_id and callback["BulkId"] == "Infobip SMS"


async def test_a_bad_signature_or_an_unsigned_body_is_refused(trip: Journey) -> None:
    body = trip.execute_body("c", **sample(trip, "sms"))
    wrong = await trip.post_jwt("message/execute", body, secret="another-packages-secret-0123456789")
    assert wrong.status_code == 401 and "signature" in wrong.json()["error"]
    plain = await trip.http.post(f"/sfmc/{trip.mid}/message/execute", json=body)
    assert plain.status_code == 401 and "plain JSON is off" in plain.json()["error"]
    none_alg = b".".join(sign(body).split(b".")[:2]) + b"."
    forged = await trip.http.post(
        f"/sfmc/{trip.mid}/message/execute", content=none_alg, headers={"Content-Type": "application/jwt"}
    )
    assert forged.status_code == 401
    unknown = await trip.http.post("/sfmc/999/message/execute", content=sign(body))
    assert unknown.status_code == 404 and "999 is not configured" in unknown.json()["error"]
    assert len(trip.harness.simulator.accepted) == 0


async def test_a_token_that_arrives_in_pieces_is_read_whole(trip: Journey) -> None:
    # Chunked over real HTTP: the server hands the body over in several ASGI messages.
    token = sign(trip.execute_body("in-pieces", **sample(trip, "sms")))

    async def pieces() -> Any:
        for start in range(0, len(token), 100):
            yield token[start : start + 100]

    answer = await trip.http.post(
        f"/sfmc/{trip.mid}/message/execute",
        content=pieces(),
        headers={"Content-Type": "Application/JWT; charset=utf-8"},
    )
    assert answer.status_code == 200 and answer.json()["messageStatus"] == "Success"
    assert answer.headers["content-type"] == "application/json"
    assert int(answer.headers["content-length"]) == len(answer.content)


async def test_plain_json_is_accepted_where_the_business_unit_allows_it(trip: Journey) -> None:
    assert (await trip.configure(allowPlainJson=True)).status_code == 200
    body = trip.execute_body("c", **sample(trip, "sms"))
    answer = await trip.http.post(f"/sfmc/{trip.mid}/message/execute", json=body)
    assert answer.status_code == 200 and answer.json()["messageStatus"] == "Success"


@pytest.mark.parametrize("call", ["save", "validate", "publish", "stop"])
async def test_lifecycle_calls_pass_a_good_design_and_block_a_bad_one(trip: Journey, call: str) -> None:
    good = {
        "arguments": {"execute": {"inArguments": in_arguments(**sample(trip, "sms"))}},
        "activityObjectID": "a",
    }
    assert (await trip.post_jwt(f"message/{call}", good)).status_code == 200
    assert (await trip.post_jwt(f"message/{call}", {"activityObjectID": "a"})).status_code == 200
    bad_arguments = sample(trip, "sms") | {
        "content": {"text": "Hi %%FirstName%%"},
        "urlOptions": {"customDomain": "unknown.example.com"},
    }
    bad = {"arguments": {"execute": {"inArguments": in_arguments(**bad_arguments)}}}
    refused = await trip.post_jwt(f"message/{call}", bad)
    assert refused.status_code == 400
    assert refused.json()["problems"] == [
        "%%FirstName%% has no contact field bound to it",
        "urlOptions.customDomain: 'unknown.example.com' is not one of the configured custom domains",
    ]
    unsigned = await trip.http.post(f"/sfmc/{trip.mid}/message/{call}", json=good)
    assert unsigned.status_code == 401


async def test_an_engine_fault_answers_5xx_so_journey_builder_retries(trip: Journey) -> None:
    store = trip.harness.engine.store

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    original, store.enqueue = store.enqueue, broken  # type: ignore[method-assign]
    try:
        response = await trip.post_jwt("message/execute", trip.execute_body("c", **sample(trip, "sms")))
    finally:
        store.enqueue = original  # type: ignore[method-assign]
    assert response.status_code == 503 and "disk full" not in response.text
    assert SIGNING_SECRET not in response.text


# A Key Management salt key: Journey Builder signs with the salt's original bytes when config.json names it.
SALT_TEXT = b"salt typed in SFMC Key Management, 0123456789"
SALT_KEY = {"jwtCustomerKey": "infobip-jwt-salt", "jwtSalt": "0x" + SALT_TEXT.hex()}


async def with_salt_key(trip: Journey) -> None:
    response = await trip.configure(sfmc=trip.unit_document()["sfmc"] | SALT_KEY)
    assert response.status_code == 200, response.text


async def test_a_call_signed_with_the_salt_keys_bytes_is_executed(trip: Journey) -> None:
    await with_salt_key(trip)
    body = trip.execute_body("contact-salt", **sample(trip, "sms"))
    answer = await trip.post_jwt("message/execute", body, SALT_TEXT)
    assert answer.status_code == 200 and answer.json()["messageStatus"] == "Success"
    await trip.harness.simulator.wait_reported([answer.json()["messageId"]])
    saved = {"arguments": {"execute": {"inArguments": in_arguments(**sample(trip, "sms"))}}}
    assert (await trip.post_jwt("message/save", saved, SALT_TEXT)).status_code == 200
    reports = trip.execute_body("contact-salt", messageActivityId=trip.activity_id, dataExtension="x")
    assert (await trip.post_jwt("reports/execute", reports, SALT_TEXT)).status_code == 200


async def test_a_call_signed_with_the_salts_hex_text_is_refused(trip: Journey) -> None:
    await with_salt_key(trip)
    body = trip.execute_body("contact-hex", **sample(trip, "sms"))
    refused = await trip.post_jwt("message/execute", body, SALT_KEY["jwtSalt"])
    assert refused.status_code == 401
    assert "matches neither of business unit" in refused.json()["error"]
    assert SALT_KEY["jwtSalt"] not in refused.text and SIGNING_SECRET not in refused.text
    assert len(trip.harness.simulator.accepted) == 0


async def test_journeys_signed_with_the_package_secret_keep_working_beside_a_salt_key(trip: Journey) -> None:
    await with_salt_key(trip)
    body = trip.execute_body("contact-secret", **sample(trip, "sms"))
    answer = await trip.post_jwt("message/execute", body, SIGNING_SECRET)
    assert answer.status_code == 200 and answer.json()["messageStatus"] == "Success"


def signing_of(config: dict[str, Any]) -> dict[str, Any]:
    """Each call's signing settings in a config.json: execute and every lifecycle call."""
    calls = {"execute": config["arguments"]["execute"], **config["configurationArguments"]}
    return {name: (call["useJwt"], call.get("customerKey")) for name, call in calls.items()}


@pytest.mark.parametrize("activity", ["message", "reports"])
async def test_config_json_names_the_customer_key_only_when_one_is_configured(
    trip: Journey, activity: str
) -> None:
    names = ("execute", "save", "publish", "validate", "stop")
    plain = (await trip.http.get(f"/sfmc/{trip.mid}/{activity}/config.json")).json()
    assert signing_of(plain) == dict.fromkeys(names, (True, None))
    assert "customerKey" not in str(plain)
    await with_salt_key(trip)
    salted = (await trip.http.get(f"/sfmc/{trip.mid}/{activity}/config.json")).json()
    assert signing_of(salted) == dict.fromkeys(names, (True, "infobip-jwt-salt"))
    assert SALT_KEY["jwtSalt"] not in str(salted)
    unconfigured = await trip.http.get(f"/sfmc/999/{activity}/config.json")
    assert unconfigured.status_code == 200 and signing_of(unconfigured.json()) == dict.fromkeys(
        names, (True, None)
    )
