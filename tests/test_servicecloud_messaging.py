"""Service Cloud two-way WhatsApp messaging end to end over loopback HTTP: Infobip's signed inbound webhook
into the Interaction Service (a fake Salesforce that checks every body against Salesforce's OpenAPI file),
agents' messages from the platform event (the Streaming API fake) out through the engine to the simulator
(as Infobip), WhatsApp's reports back as acknowledgements, the 24-hour window, a restart resuming from the
saved replay id, and the chatbot handover with its history."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from channel_engine.testing.conformance import check_webhook
from channel_engine_servicecloud.testing.org import (
    END_USER,
    INFOBIP_KEY,
    SENDER,
    ConnectedOrg,
    connected_org,
    engine_on,
    inbound_body,
    salesforce_org,
)


async def wait(predicate: Any, timeout: float = 15.0) -> None:
    """Until `predicate()` holds: the engine's background work has no event a test can await directly."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.02)


async def subscribed(org: ConnectedOrg, count: int = 1) -> None:
    await org.streaming.wait_until(lambda: sum(s.accepted for s in org.streaming.subscriptions) >= count)


async def conversation_of(org: ConnectedOrg, end_user: str = END_USER) -> str:
    """The end user writes first (opening the 24-hour window); the conversation identifier Salesforce made."""
    await org.end_user_writes("Hi, my order is late", end_user=end_user)
    record = await remembered(org, end_user)
    assert record.conversation_identifier is not None
    return record.conversation_identifier


async def remembered(org: ConnectedOrg, end_user: str = END_USER) -> Any:
    """The engine's record of the conversation, once Salesforce has answered the end user's message."""
    parts = org.harness.engine.plugins.pm.get_plugin("servicecloud").parts
    return await polled(
        lambda: parts.conversations.get(org.org_id, end_user),
        lambda record: record is not None and bool(record.session_id),
        "the conversation was not recorded in time",
    )


async def polled(read: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], failure: str) -> Any:
    """What `read` gives once `done` holds for it, read every 20 ms for at most 15 s (the engine's state
    here has no event to wait on)."""
    deadline = time.monotonic() + 15
    while not done(value := await read()):
        assert time.monotonic() < deadline, f"{failure}: {value}"
        await asyncio.sleep(0.02)
    return value


async def org_status(org: ConnectedOrg) -> dict[str, Any]:
    response = await org.harness.http.get(f"/servicecloud/{org.org_id}/status", headers=org.admin)
    return response.json()


def sent_to(org: ConnectedOrg, end_user: str) -> list[Any]:
    return org.infobip.sent_to(end_user)


# -- end users in -------------------------------------------------------------------------------------


async def test_an_end_users_message_becomes_an_interaction_with_the_documented_headers(tmp_path):
    async with connected_org(tmp_path) as org:
        body = inbound_body("Hi, my order is late", message_id="wamid.first")
        assert check_webhook("whatsapp", "receive-inbound-whatsapp-messages", body) == []
        response = await org.post_inbound(body)
        assert response.json() == {"received": 1, "queued": 1}
        await org.salesforce.wait_for(lambda sf: len(sf.interactions) == 1)

        got = org.salesforce.interactions[0]
        assert got["headers"]["orgid"] == org.org_id[:15]
        assert got["headers"]["authorizationcontext"] == org.salesforce.authorization_context
        assert len(got["headers"]["requestid"]) == 36
        assert got["json"]["to"] == org.salesforce.channel_address_identifier
        assert got["json"]["from"] == END_USER
        [interaction] = got["json"]["interactions"]
        assert interaction["interactionType"] == "EntryInteraction"
        assert interaction["payload"]["abstractMessage"]["staticContent"] == {
            "formatType": "Text",
            "text": "Hi, my order is late",
        }
        assert org.salesforce.spec_violations == []

        # The engine remembers the conversation: its session, sender and window; the queue empties.
        record = await remembered(org)
        assert record.session_id == got["session_id"] and record.sender == SENDER
        assert record.window_open(time.time()) and record.opt_in_source == "end-user message"
        # The relay records the conversation before it deletes the queued message: wait for the delete.
        status = await polled(
            lambda: org_status(org), lambda s: s["inboundQueued"] == 0, "the inbound queue never emptied"
        )
        assert status["ready"] is True


async def test_messages_reach_salesforce_in_the_order_they_were_sent_and_never_twice(tmp_path):
    async with connected_org(tmp_path) as org:
        now = time.time()
        # Infobip delivers out of order, and delivers one of them twice.
        for i in (2, 0, 1):
            await org.end_user_writes(f"message {i}", message_id=f"wamid.{i}", at=now - 10 + i)
        await org.end_user_writes("message 1", message_id="wamid.1", at=now - 9)
        await org.salesforce.wait_for(lambda sf: len(sf.interactions) >= 3)
        texts = [
            i["json"]["interactions"][0]["payload"]["abstractMessage"]["staticContent"]["text"]
            for i in org.salesforce.interactions
        ]
        assert texts[:3] in (["message 0", "message 1", "message 2"], ["message 2", "message 0", "message 1"])
        # The queue stores before it answers and the relay may already run: what it sends per pass is
        # sorted. Once handed over, a redelivery is not queued again.
        again = await org.post_inbound(inbound_body("message 0", message_id="wamid.0", at=now - 10))
        assert again.json()["queued"] == 0
        assert sorted(texts) == ["message 0", "message 1", "message 2"]
        assert org.salesforce.spec_violations == []


async def test_a_batch_arriving_in_one_call_is_posted_oldest_first(tmp_path):
    async with connected_org(tmp_path) as org:
        now = time.time()
        results = [
            inbound_body(f"m{i}", message_id=f"wamid.b{i}", at=now - 5 + i)["results"][0] for i in range(4)
        ]
        body = {"results": list(reversed(results)), "messageCount": 4, "pendingMessageCount": 0}
        assert (await org.post_inbound(body)).json()["queued"] == 4
        await org.salesforce.wait_for(lambda sf: len(sf.interactions) == 4)
        texts = [
            i["json"]["interactions"][0]["payload"]["abstractMessage"]["staticContent"]["text"]
            for i in org.salesforce.interactions
        ]
        assert texts == ["m0", "m1", "m2", "m3"]
        sessions = {i["session_id"] for i in org.salesforce.interactions}
        assert len(sessions) == 1  # one messaging session for the conversation


async def test_an_unsigned_or_wrongly_signed_webhook_is_refused(tmp_path):
    async with connected_org(tmp_path) as org:
        wrong = await org.post_inbound(inbound_body("hello"), secret="not-the-subscription-secret")
        unsigned = await org.harness.http.post(f"/servicecloud/{org.org_id}/inbound", json=inbound_body("x"))
        unknown = await org.harness.http.post("/servicecloud/00D000000000000AAA/inbound", json={})
        assert wrong.status_code == 401 and "signature does not match" in wrong.json()["error"]
        assert unsigned.status_code == 401 and "missing signature header" in unsigned.json()["error"]
        assert unknown.status_code == 404
        assert org.salesforce.interactions == []


async def test_salesforce_down_loses_nothing_and_keeps_the_order(tmp_path):
    async with connected_org(tmp_path) as org:
        parts = org.harness.engine.plugins.pm.get_plugin("servicecloud").parts
        parts.inbound.retry_seconds = 0.1
        org.salesforce.down = True
        now = time.time()
        for i in range(3):
            await org.end_user_writes(f"while down {i}", message_id=f"wamid.d{i}", at=now + i)
        await wait(lambda: org.salesforce.refused != [] or org.salesforce.calls != [])
        assert org.salesforce.interactions == []
        org.salesforce.down = False
        await org.salesforce.wait_for(lambda sf: len(sf.interactions) == 3)
        texts = [
            i["json"]["interactions"][0]["payload"]["abstractMessage"]["staticContent"]["text"]
            for i in org.salesforce.interactions
        ]
        assert texts == ["while down 0", "while down 1", "while down 2"]


# -- agents out, receipts back ---------------------------------------------------------------------------


async def test_an_agents_message_goes_to_whatsapp_and_receipts_come_back(tmp_path):
    end_user = "385919998990"  # the simulator reports it delivered, then seen
    async with connected_org(tmp_path) as org:
        await subscribed(org)
        cid = await conversation_of(org, end_user)
        _, entry = org.agent_writes("Sorry! Let me check.", cid, end_user=end_user)
        await wait(lambda: len(sent_to(org, end_user)) == 1)
        [sent] = sent_to(org, end_user)
        assert sent.sender == SENDER and sent.text == "Sorry! Let me check."

        await org.salesforce.wait_for(
            lambda sf: {a["acknowledgementType"] for a in acks(sf)} >= {"Delivered", "Read"}
        )
        for ack in acks(org.salesforce):
            assert ack["acknowledgedConversationEntryIdentifier"] == entry
        assert org.salesforce.acknowledgements[0]["json"]["conversationIdentifier"] == cid
        assert org.salesforce.spec_violations == []


def acks(salesforce: Any) -> list[dict[str, Any]]:
    return [a for call in salesforce.acknowledgements for a in call["json"]["acknowledgements"]]


async def test_a_failed_delivery_is_reported_as_message_delivery_failed(tmp_path):
    end_user = "385919998991"  # undeliverable
    async with connected_org(tmp_path) as org:
        await subscribed(org)
        cid = await conversation_of(org, end_user)
        _, entry = org.agent_writes("Your refund is on its way", cid, end_user=end_user)
        await org.salesforce.wait_for(lambda sf: failures(sf) != [])
        [failed] = failures(org.salesforce)
        assert failed["failedConversationEntryIdentifier"] == entry
        assert failed["recipient"] == {"appType": "custom", "subject": end_user, "role": "EndUser"}
        assert failed["errorCode"]
        assert org.salesforce.spec_violations == []


def failures(salesforce: Any) -> list[dict[str, Any]]:
    return [
        i["json"]["interactions"][0]["payload"]
        for i in salesforce.interactions
        if i["json"]["interactions"][0].get("payload", {}).get("entryType") == "MessageDeliveryFailed"
    ]


async def test_outside_the_24_hour_window_the_agent_gets_a_clear_error_and_nothing_is_sent(tmp_path):
    async with connected_org(tmp_path) as org:
        await subscribed(org)
        await org.end_user_writes("an old question", at=time.time() - 25 * 3600)
        cid = (await remembered(org)).conversation_identifier
        _, entry = org.agent_writes("Following up on your question", cid)
        await org.salesforce.wait_for(lambda sf: failures(sf) != [])
        [failed] = failures(org.salesforce)
        assert failed["errorCode"] == "WhatsAppWindowClosed"
        assert failed["failedConversationEntryIdentifier"] == entry
        assert "within 24 hours" in failed["errorMessage"] and "template" in failed["errorMessage"]
        assert sent_to(org, END_USER) == []


async def test_an_agent_event_in_the_flat_form_is_read_too(tmp_path):
    async with connected_org(tmp_path) as org:
        await subscribed(org)
        cid = await conversation_of(org)
        org.agent_writes("flat form", cid, wrapped=False)
        await wait(lambda: [s.text for s in sent_to(org, END_USER)] == ["flat form"])


async def test_a_restart_resumes_from_the_last_replay_id_and_sends_nothing_twice(tmp_path):
    async with salesforce_org() as (salesforce, streaming, infobip):
        async with engine_on(tmp_path, salesforce, streaming, infobip) as org:
            await subscribed(org)
            cid = await conversation_of(org)
            org.agent_writes("before the restart", cid)
            await wait(lambda: len(sent_to(org, END_USER)) == 1)
            saved = await org.harness.engine.services.data("servicecloud").get(f"replay:{org.org_id}")
            assert saved is not None
        # Published while no engine runs.
        published, _ = org.agent_writes("while the engine was down", cid)
        async with engine_on(tmp_path, salesforce, streaming, infobip, configure=False) as again:
            await subscribed(again, 2)
            resumed = [s for s in streaming.subscriptions if s.accepted][-1]
            assert resumed.replay_id == int(saved)
            expected = ["before the restart", "while the engine was down"]  # Infobip saw each once
            await wait(lambda: sorted(s.text for s in sent_to(again, END_USER)) == expected)
            assert published > int(saved)


async def test_when_the_session_ends_the_closing_message_is_sent(tmp_path):
    async with connected_org(tmp_path) as org:
        await subscribed(org)
        cid = await conversation_of(org)
        session = org.salesforce.interactions[-1]["session_id"]
        org.publish(
            {
                "conversationIdentifier": cid,
                "channelAddressIdentifier": org.salesforce.channel_address_identifier,
                "recipient": {"appType": "custom", "subject": END_USER, "role": "EndUser"},
                "payload": {
                    "identifier": "b2c4f7a0-0000-4000-8000-000000000001",
                    "entryType": "SessionStatusChanged",
                    "entryPayload": {
                        "entryType": "SessionStatusChanged",
                        "sessionId": session,
                        "conversationIdentifier": cid,
                        "channelAddressIdentifier": org.salesforce.channel_address_identifier,
                        "sessionStatus": "Ended",
                        "sessionStatusPrev": "Active",
                    },
                },
            }
        )
        await wait(lambda: [s.text for s in sent_to(org, END_USER)] != [])
        assert [s.text for s in sent_to(org, END_USER)] == [
            "This conversation has ended. Message us again if you need help."
        ]


# -- chatbot to agent ---------------------------------------------------------------------------------


async def seed_bot_conversation(org: ConnectedOrg, conversation_id: str, turns: int) -> None:
    now = time.time()
    messages = []
    for i in range(turns):
        inbound = i % 2 == 0
        at = now - 600 + i * 10
        messages.append(
            {
                "id": f"ib-msg-{i}",
                "channel": "WHATSAPP",
                "from": END_USER if inbound else SENDER,
                "to": SENDER if inbound else END_USER,
                "direction": "INBOUND" if inbound else "OUTBOUND",
                "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + ".000+0000",
                "contentType": "TEXT",
                "content": {"text": f"{'user' if inbound else 'bot'} says {i}"},
            }
        )
    async with httpx.AsyncClient(base_url=org.infobip.url) as http:
        response = await http.post(
            f"/-/simulator/ccaas/conversations/{conversation_id}/messages",
            json=messages,
            headers={"Authorization": f"App {INFOBIP_KEY}"},
        )
    assert response.status_code == 200, response.text


async def test_a_chatbot_hands_its_conversation_to_an_agent_with_the_history(tmp_path):
    async with connected_org(tmp_path) as org:
        await seed_bot_conversation(org, "bot-conv-1", 12)
        summary = (await org.harness.http.get(f"/servicecloud/setup/{org.org_id}", headers=org.admin)).json()
        token = summary["chatbotHandover"]["token"]
        body = {"conversationId": "bot-conv-1", "senderNumber": f"+{END_USER}"}
        answer = await org.harness.http.post(
            f"/servicecloud/{org.org_id}/handover", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["imported"] == 12 and result["routed"] is True

        history = org.salesforce.history
        calls = org.salesforce.history_calls
        assert [len(c["json"]["conversationEntries"]) for c in calls] == [2, 5, 5]  # newest chunk first
        assert (
            calls[0]["json"]["messagingSession"]["messagingSessionRequestType"] == "EstablishMessagingSession"
        )
        assert {c["json"]["messagingSession"]["messagingSessionRequestType"] for c in calls[1:]} == {
            "AttachMessagingSession"
        }
        texts = [
            e["entryPayload"]["abstractMessage"]["staticContent"]["text"]
            for c in reversed(calls)
            for e in c["json"]["conversationEntries"]
        ]
        assert texts == [f"{'user' if i % 2 == 0 else 'bot'} says {i}" for i in range(12)]
        roles = {e["sender"]["role"] for c in calls for e in c["json"]["conversationEntries"]}
        assert roles == {"EndUser", "Chatbot"}
        assert len(org.salesforce.routes) == 1 and history
        await wait(lambda: len(sent_to(org, END_USER)) == 1)
        assert sent_to(org, END_USER)[0].text == "Hang tight, an agent will join the chat in just a moment."
        assert org.salesforce.spec_violations == []

        repeated = await org.harness.http.post(
            f"/servicecloud/{org.org_id}/handover", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert repeated.json()["repeated"] is True
        assert len(org.salesforce.history_calls) == 3


async def test_the_handover_contract_refuses_bad_input_plainly(tmp_path):
    async with connected_org(tmp_path) as org:
        summary = (await org.harness.http.get(f"/servicecloud/setup/{org.org_id}", headers=org.admin)).json()
        auth = {"Authorization": f"Bearer {summary['chatbotHandover']['token']}"}
        url = f"/servicecloud/{org.org_id}/handover"
        no_token = await org.harness.http.post(url, json={"conversationId": "x", "senderNumber": END_USER})
        bad = await org.harness.http.post(
            url, json={"conversationId": "x", "senderNumber": "call me"}, headers=auth
        )
        unknown = await org.harness.http.post(
            url, json={"conversationId": "nope", "senderNumber": END_USER}, headers=auth
        )
        assert no_token.status_code == 401
        assert bad.status_code == 400 and bad.json()["path"] == "$.senderNumber"
        assert unknown.status_code == 404 and "nope" in unknown.json()["error"]
