"""The two channels this plugin provides, each with its own Infobip send path (product `kakao`)."""

from __future__ import annotations

from channel_engine import Channel

ALIM_PATH = "/kakao-alim/1/messages"
CHINGU_PATH = "/kakao-chingu/1/messages"

# The spec documents no cap on `messages[]` per request. A thousand destinations keep one body at a few
# hundred kilobytes, and a failed request retries a bounded amount of work (as for SMS).
MAX_BATCH = 1000

ALIM = Channel(
    name="kakao-alim",
    product="kakao",
    description="KakaoTalk AlimTalk notifications from a registered template (title, up to 5 buttons, "
    "SMS failover) through Infobip /kakao-alim/1/messages",
    max_batch=MAX_BATCH,
)
CHINGU = Channel(
    name="kakao-chingu",
    product="kakao",
    description="KakaoTalk ChinguTalk brand messages (free-form text or image, up to 5 web/app link buttons, "
    "URL tracking, SMS failover) through Infobip /kakao-chingu/1/messages",
    max_batch=MAX_BATCH,
)
CHANNELS = (ALIM, CHINGU)
SEND_PATHS = {ALIM.name: ALIM_PATH, CHINGU.name: CHINGU_PATH}
