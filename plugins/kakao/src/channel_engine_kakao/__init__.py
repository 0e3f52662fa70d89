"""Kakao Alim and ChinguTalk channels for Channel Engine (Infobip /kakao-alim/1/messages and
/kakao-chingu/1/messages)."""
