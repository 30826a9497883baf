// The test is the link, not the run: this executable takes in every object file of the four
// services' rules libraries (whole-archive, tests/CMakeLists.txt) and links nothing else but their
// own dependencies (the contracts, Abseil, signpost_status and the pure shared parts:
// signpost_event_envelope, signpost_principal, signpost_topics). A rule that starts calling Redis,
// Kafka, the HTTP endpoint or a gRPC server leaves an undefined symbol, and the build fails.
int main() { return 0; }
