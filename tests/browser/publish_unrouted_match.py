#!/usr/bin/python3
"""Puts one referral.matched event on the topic with kcat, as matching writes it for a practice no
network lists: no link worker, network "unrouted".

usage: publish_unrouted_match.py GENERATED_DIR KAFKA_BOOTSTRAP TOPIC_PREFIX
"""
import os
import sys
import uuid

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
from kafka_and_nhs import new_event, publish_event  # noqa: E402

bootstrap, prefix = sys.argv[2], sys.argv[3]
referral_id = "browser-unrouted-" + uuid.uuid4().hex[:8]
event = new_event("referral.matched", referral_id)
matched = event.referral_matched
matched.referral.referrer.ods_code = "A81099"
matched.network_id = "unrouted"
matched.assignment_reasons.append("no network serves the referring practice A81099")
publish_event(bootstrap, prefix + "signpost.referral.matched", referral_id, event)
print("published an unrouted match", referral_id)
