#pragma once

#include <librdkafka/rdkafkacpp.h>

#include "common/kafka/message.h"

namespace signpost::kafka {

// Our copy of a consumed librdkafka message: topic, partition, offset, key, value (none for a
// tombstone), headers and timestamp.
inline ConsumedMessage FromRdKafka(RdKafka::Message& m) {  // headers() is not const
  ConsumedMessage out;
  out.topic = m.topic_name();
  out.partition = m.partition();
  out.offset = m.offset();
  if (m.key()) out.key = *m.key();
  if (m.payload()) out.value.emplace(static_cast<const char*>(m.payload()), m.len());
  if (RdKafka::Headers* headers = m.headers()) {
    for (const auto& h : headers->get_all()) {
      out.headers.push_back(
          {h.key(), h.value() ? std::string(static_cast<const char*>(h.value()), h.value_size())
                              : std::string()});
    }
  }
  out.timestamp_ms = m.timestamp().timestamp;
  return out;
}

}  // namespace signpost::kafka
