"""The Service Cloud setup wizard's steps over loopback HTTP against the Salesforce fake and the Infobip
simulator: connect (a real RS256 JWT bearer token, Tooling records created once), configure, add account
(checked with Infobip), select senders (only CONNECTED ones), and the summary with every URL to paste."""

from __future__ import annotations

from typing import Any

from channel_engine_servicecloud.testing.org import INFOBIP_KEY, SENDER, ConnectedOrg, connected_org

EVENT = {"name": "Infobip_Event__e", "typeField": "EventType__c", "payloadField": "Payload__c"}


def connect_body(org: ConnectedOrg, **overrides: Any) -> dict[str, Any]:
    sf = org.salesforce
    return {
        "instanceUrl": sf.url,
        "loginUrl": sf.url,
        "consumerKey": sf.consumer_key,
        "username": sf.username,
        "privateKey": sf.private_key_pem,
        "platformEvent": EVENT,
        "developerName": sf.authorization_context,
        **overrides,
    }


async def step(org: ConnectedOrg, name: str, body: dict[str, Any]) -> Any:
    return await org.harness.http.post(
        f"/servicecloud/setup/{org.org_id}/{name}", json=body, headers=org.admin
    )


async def test_the_wizard_walks_an_org_from_nothing_to_a_complete_summary(tmp_path):
    async with connected_org(tmp_path, configure=False) as org:
        before = await org.harness.http.get(f"/servicecloud/setup/{org.org_id}", headers=org.admin)
        assert before.status_code == 409 and "connect" in before.json()["error"]

        connected = await step(org, "connect", connect_body(org))
        assert connected.status_code == 200, connected.text
        answer = connected.json()
        assert answer["next"] == "configure"
        assert answer["conversationChannelDefinition"]["created"] is True
        assert answer["conversationVendorInfo"]["created"] is True
        assert org.salesforce.tokens_issued >= 1
        again = (await step(org, "connect", connect_body(org, privateKey="********"))).json()
        assert again["conversationChannelDefinition"]["created"] is False  # found, not created twice

        configured = await step(
            org,
            "configure",
            {
                "channelAddressIdentifier": org.salesforce.channel_address_identifier,
                "scrtUrl": org.salesforce.url,
                "webhookSecret": "infobip-subscription-hmac-secret",
                "welcomeMessage": "An agent is on the way.",
            },
        )
        assert configured.json() == {"step": "configure", "ok": True, "next": "accounts"}

        refused = await step(org, "accounts", {"name": "main", "apiKey": "wrong", "baseUrl": org.infobip.url})
        assert refused.status_code == 422 and "refused the API key" in refused.json()["error"]
        added = await step(
            org, "accounts", {"name": "main", "apiKey": INFOBIP_KEY, "baseUrl": org.infobip.url}
        )
        assert added.json()["next"] == "senders"

        flagged = await step(org, "senders", {"account": "main", "senders": [SENDER, "447860099991"]})
        assert flagged.status_code == 422 and flagged.json()["path"] == "$.senders[1]"
        chosen = await step(org, "senders", {"account": "main", "senders": [f"+{SENDER}"]})
        assert chosen.json()["senders"] == [SENDER]

        summary = (await org.harness.http.get(f"/servicecloud/setup/{org.org_id}", headers=org.admin)).json()
        assert summary["complete"] is True and summary["next"] is None
        assert summary["configuration"]["privateKey"] == "********"
        assert summary["configuration"]["accounts"][0]["apiKey"] == "********"
        assert summary["configuration"]["welcomeMessage"] == "An agent is on the way."
        assert summary["infobip"]["inboundWebhookUrl"].endswith(f"/servicecloud/{org.org_id}/inbound")
        assert summary["chatbotHandover"]["token"] in summary["chatbotHandover"]["curl"]
        assert "/panel/" in summary["templatePanelUrl"] and summary["templatePanelUrl"].endswith("/templates")
        assert org.salesforce.private_key_pem not in str(summary)


async def test_connect_explains_a_refused_assertion_and_stores_nothing(tmp_path):
    async with connected_org(tmp_path, configure=False) as org:
        refused = await step(org, "connect", connect_body(org, username="someone.else@example.com"))
        assert refused.status_code == 422
        assert "refused the JWT bearer assertion for someone.else@example.com" in refused.json()["error"]
        assert org.salesforce.private_key_pem not in refused.text
        missing = await org.harness.http.get(f"/servicecloud/setup/{org.org_id}", headers=org.admin)
        assert missing.status_code == 409


async def test_the_wizard_needs_the_engines_api_key(tmp_path):
    async with connected_org(tmp_path, configure=False) as org:
        anonymous = await org.harness.http.post(f"/servicecloud/setup/{org.org_id}/connect", json={})
        assert anonymous.status_code == 401
