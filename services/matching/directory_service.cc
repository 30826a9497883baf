#include "services/matching/directory_service.h"

#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/status/field_violations.h"
#include "common/status/grpc_status.h"
#include "services/matching/open_referral.h"
#include "services/matching/ranking.h"
#include "services/matching/resource_validation.h"

namespace signpost::matching {
namespace {

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context, const absl::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace

DirectoryService::DirectoryService(DirectoryIndex& cache, Roster& roster, PlaceReservations& places,
                                   PostcodeLookup& postcodes, kafka::Producer& producer,
                                   std::string directory_topic, MatchPolicy policy,
                                   std::function<absl::Time()> clock,
                                   const auth::CallAuthenticator& auth, WorkerPool& workers)
    : cache_(cache),
      roster_(roster),
      places_(places),
      postcodes_(postcodes),
      producer_(producer),
      topic_(std::move(directory_topic)),
      policy_(std::move(policy)),
      clock_(std::move(clock)),
      auth_(auth),
      offload_(workers, "the directory") {}

absl::StatusOr<auth::Principal> DirectoryService::Allow(const grpc::CallbackServerContext& context,
                                                        DirectoryRpc rpc) const {
  absl::StatusOr<auth::Principal> caller = auth_.Authenticate(context);
  if (!caller.ok()) return caller.status();
  if (absl::Status s = CanCallDirectory(*caller, rpc); !s.ok()) return s;
  return caller;
}

absl::Status DirectoryService::Publish(const std::string& key, v1::Event event) {
  events::Seal(event, "", "signpost-matching", clock_());
  absl::Status sent = producer_.Send(events::ToMessage(event, topic_, key));
  if (!sent.ok())
    return absl::UnavailableError(absl::StrCat("directory not updated: ", sent.message()));
  return absl::OkStatus();
}

absl::Status DirectoryService::Upsert(const v1::Resource& resource) {
  auto violations = ValidateResource(resource);
  if (!violations.empty()) return InvalidArgumentWithViolations(violations);
  v1::Event event;
  *event.mutable_resource_upserted()->mutable_resource() = resource;
  int64_t now = absl::ToUnixNanos(clock_());
  auto* updated = event.mutable_resource_upserted()->mutable_resource()->mutable_updated_at();
  updated->set_seconds(now / 1000000000);
  updated->set_nanos(static_cast<int32_t>(now % 1000000000));
  if (absl::Status s = Publish(resource.id(), event); !s.ok()) return s;
  // The topic has it; the cache follows from the topic too, this makes a read after the write
  // see it at once.
  absl::Status cached = cache_.PutResource(event.resource_upserted().resource());
  return cached.ok() ? absl::OkStatus() : absl::UnavailableError(cached.message());
}

grpc::ServerUnaryReactor* DirectoryService::UpsertResource(grpc::CallbackServerContext* context,
                                                           const v1::UpsertResourceRequest* request,
                                                           v1::Resource* response) {
  auto caller = Allow(*context, DirectoryRpc::kUpsertResource);
  if (!caller.ok()) return Done(context, caller.status());
  return offload_.Answer(context, [this, request, response] {
    absl::Status s = Upsert(request->resource());
    if (s.ok()) *response = request->resource();
    return s;
  });
}

grpc::ServerUnaryReactor* DirectoryService::RemoveResource(grpc::CallbackServerContext* context,
                                                           const v1::RemoveResourceRequest* request,
                                                           v1::RemoveResourceResponse* response) {
  auto caller = Allow(*context, DirectoryRpc::kRemoveResource);
  if (!caller.ok()) return Done(context, caller.status());
  if (!IsValidDirectoryId(request->id())) {
    return Done(context, InvalidArgumentWithViolations({{"id", "not a directory id"}}));
  }
  return offload_.Answer(context, [this, request, response]() -> absl::Status {
    auto existing = cache_.GetResource(request->id());
    if (!existing.ok()) return absl::UnavailableError(existing.status().message());
    response->set_existed(existing->has_value());
    absl::Status sent = producer_.Send({topic_, request->id(), std::nullopt, {}});
    if (!sent.ok()) return absl::UnavailableError(sent.message());
    absl::Status removed = cache_.RemoveResource(request->id());
    return removed.ok() ? absl::OkStatus() : absl::UnavailableError(removed.message());
  });
}

grpc::ServerUnaryReactor* DirectoryService::GetResource(grpc::CallbackServerContext* context,
                                                        const v1::GetResourceRequest* request,
                                                        v1::Resource* response) {
  auto caller = Allow(*context, DirectoryRpc::kGetResource);
  if (!caller.ok()) return Done(context, caller.status());
  return offload_.Answer(context, [this, request, response]() -> absl::Status {
    auto found = cache_.GetResource(request->id());
    if (!found.ok()) return absl::UnavailableError(found.status().message());
    if (!found->has_value()) {
      return absl::NotFoundError(absl::StrCat("no resource '", request->id(), "'"));
    }
    *response = **found;
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::SearchResourcesResponse> DirectoryService::Search(
    const v1::SearchResourcesRequest& request) {
  if (request.needs_size() == 0) {
    return InvalidArgumentWithViolations({{"needs", "at least one need category"}});
  }
  v1::SearchResourcesResponse response;
  std::optional<v1::GeoPoint> point;
  if (request.has_point()) {
    point = request.point();
    response.set_location_basis("point");
  } else if (!request.postcode().empty()) {
    std::string postcode = request.postcode();
    std::string district = postcode.substr(0, postcode.find(' '));
    auto located = postcodes_.Locate(postcode, district);
    if (!located.ok()) return absl::UnavailableError(located.status().message());
    if (located->basis != PersonLocation::Basis::kNone) point = located->point;
    response.set_location_basis(located->basis == PersonLocation::Basis::kPostcode   ? "postcode"
                                : located->basis == PersonLocation::Basis::kDistrict ? "district"
                                                                                     : "none");
  } else {
    response.set_location_basis("none");
  }
  MatchPolicy policy = policy_;
  if (request.radius_km() > 0) policy.default_radius_km = request.radius_km();
  if (request.limit() > 0) policy.top_k = request.limit();
  if (request.radius_km() > 0) policy.radius_km.clear();
  std::vector<CandidateQuery> queries;
  for (int need : request.needs()) {
    CandidateQuery q;
    q.need = static_cast<v1::NeedCategory>(need);
    q.point = point;
    q.radius_km = policy.RadiusKm(q.need, request.person().transport_barrier());
    queries.push_back(q);
  }
  auto found = cache_.Candidates(queries);
  if (!found.ok()) return absl::UnavailableError(found.status().message());
  absl::Time now = clock_();
  for (size_t i = 0; i < found->size(); ++i) {
    std::vector<Candidate> acceptable;
    for (const auto& f : (*found)[i]) {
      Candidate c{f.resource.get(), f.distance_km, f.remote};
      if (request.has_person()) {
        if (WhyExcluded(c, request.person(), queries[i].need, policy, now)) continue;
      } else if (f.resource->status() != v1::RESOURCE_STATUS_ACTIVE) {
        continue;
      }
      acceptable.push_back(c);
    }
    auto* result = response.add_results();
    result->mutable_need()->set_category(queries[i].need);
    for (auto& option : RankOptions(acceptable, request.person(), policy, now)) {
      *result->add_options() = std::move(option);
    }
  }
  return response;
}

grpc::ServerUnaryReactor* DirectoryService::SearchResources(
    grpc::CallbackServerContext* context, const v1::SearchResourcesRequest* request,
    v1::SearchResourcesResponse* response) {
  auto caller = Allow(*context, DirectoryRpc::kSearchResources);
  if (!caller.ok()) return Done(context, caller.status());
  return offload_.Answer(context, [this, request, response] {
    auto result = Search(*request);
    if (result.ok()) *response = *std::move(result);
    return result.status();
  });
}

grpc::ServerUnaryReactor* DirectoryService::UpdateCapacity(grpc::CallbackServerContext* context,
                                                           const v1::UpdateCapacityRequest* request,
                                                           v1::Resource* response) {
  auto caller = Allow(*context, DirectoryRpc::kUpdateCapacity);
  if (!caller.ok()) return Done(context, caller.status());
  return offload_.Answer(context, [this, request, response]() -> absl::Status {
    auto found = cache_.GetResource(request->id());
    if (!found.ok()) return absl::UnavailableError(found.status().message());
    if (!found->has_value()) {
      return absl::NotFoundError(absl::StrCat("no resource '", request->id(), "'"));
    }
    v1::Resource resource = **found;
    auto* capacity = resource.mutable_capacity();
    if (request->places_total() > 0) capacity->set_places_total(request->places_total());
    capacity->set_places_available(request->places_available());
    capacity->set_waitlist_open(request->waitlist_open());
    capacity->mutable_updated_at()->set_seconds(absl::ToUnixSeconds(clock_()));
    absl::Status s = Upsert(resource);
    if (s.ok()) *response = resource;
    return s;
  });
}

absl::StatusOr<v1::ReservePlaceResponse> DirectoryService::Reserve(
    const auth::Principal& caller, const v1::ReservePlaceRequest& request) {
  std::vector<FieldViolation> violations;
  if (!IsValidDirectoryId(request.resource_id())) {
    violations.push_back({"resource_id", "not a directory id"});
  }
  if (request.referral_id().empty() || request.referral_id().size() > 128) {
    violations.push_back({"referral_id", "required, at most 128 characters"});
  }
  if (!violations.empty()) return InvalidArgumentWithViolations(violations);
  if (caller.role != auth::Role::kDevelopment) {
    // The case as matching assigned it (moved with reassignments) and the options it offered.
    auto assigned = roster_.AssignedWorker(request.referral_id());
    if (!assigned.ok()) return absl::UnavailableError(assigned.status().message());
    auto matched = roster_.RecordedMatchedEvent(request.referral_id());
    if (!matched.ok()) return matched.status();
    if (absl::Status s = CanReserveFor(
            caller, *assigned, matched->has_value() ? &(*matched)->referral_matched() : nullptr,
            request.resource_id());
        !s.ok()) {
      return s;
    }
  }
  // The place and the record that this referral holds it, in one step: a repeated call (after a
  // lost answer, a crash, a failed publish) takes no second place. Published after: the topic is
  // never ahead of the cache, and no lock waits on the broker.
  auto taken = places_.TakePlace(request.resource_id(), request.referral_id(), clock_());
  if (!taken.ok()) {
    switch (taken.status().code()) {
      case absl::StatusCode::kNotFound:
      case absl::StatusCode::kResourceExhausted:
      case absl::StatusCode::kAborted:
      case absl::StatusCode::kDataLoss:
        return taken.status();
      default:
        return absl::UnavailableError(taken.status().message());
    }
  }
  if (absl::Status s = PublishPlaces(taken->resource); !s.ok()) return s;
  v1::ReservePlaceResponse response;
  *response.mutable_resource() = std::move(taken->resource);
  response.set_already_reserved(taken->earlier);
  return response;
}

absl::Status DirectoryService::PublishPlaces(v1::Resource resource) {
  auto version = [](const v1::Resource& r) {
    return std::make_pair(r.updated_at().seconds(), r.updated_at().nanos());
  };
  // Reservations of one resource publish in whatever order their sends complete: after its own,
  // each publishes again the cached record when a later version (another reservation's) is there,
  // so the compacted topic's last record of the resource is never older than the cache's.
  for (int round = 0; round < 8; ++round) {
    v1::Event event;
    *event.mutable_resource_upserted()->mutable_resource() = resource;
    if (absl::Status s = Publish(resource.id(), event); !s.ok()) return s;
    auto current = cache_.GetResource(resource.id());
    if (!current.ok()) return absl::UnavailableError(current.status().message());
    if (!current->has_value() || version(**current) <= version(resource)) break;
    resource = **std::move(current);
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* DirectoryService::ReservePlace(grpc::CallbackServerContext* context,
                                                         const v1::ReservePlaceRequest* request,
                                                         v1::ReservePlaceResponse* response) {
  auto caller = Allow(*context, DirectoryRpc::kReservePlace);
  if (!caller.ok()) return Done(context, caller.status());
  // Reserve waits on Redis and on the broker's acknowledgement of the publish.
  return offload_.Answer(context, [this, caller = *std::move(caller), request, response] {
    auto reserved = Reserve(caller, *request);
    if (reserved.ok()) *response = *std::move(reserved);
    return reserved.status();
  });
}

absl::StatusOr<v1::ImportOpenReferralResponse> DirectoryService::Import(
    const v1::ImportOpenReferralRequest& request) {
  auto records = ResourcesFromOpenReferral(request.json());
  if (!records.ok()) {
    std::string where = request.document().empty() ? "" : absl::StrCat(request.document(), ": ");
    return InvalidArgumentWithViolations(
        {{"json", absl::StrCat(where, records.status().message())}});
  }
  v1::ImportOpenReferralResponse response;
  response.set_document(request.document());
  for (const auto& record : *records) {
    auto* result = response.add_results();
    result->set_id(record.id);
    absl::Status s = record.resource.ok() ? Upsert(*record.resource) : record.resource.status();
    if (s.code() == absl::StatusCode::kUnavailable) return s;
    result->set_accepted(s.ok());
    if (!s.ok()) result->set_reason(std::string(s.message()));
    if (s.ok()) {
      response.set_accepted(response.accepted() + 1);
    } else {
      response.set_rejected(response.rejected() + 1);
    }
  }
  return response;
}

grpc::ServerUnaryReactor* DirectoryService::ImportOpenReferral(
    grpc::CallbackServerContext* context, const v1::ImportOpenReferralRequest* request,
    v1::ImportOpenReferralResponse* response) {
  auto caller = Allow(*context, DirectoryRpc::kImportOpenReferral);
  if (!caller.ok()) return Done(context, caller.status());
  return offload_.Answer(context, [this, request, response] {
    auto imported = Import(*request);
    if (imported.ok()) *response = *std::move(imported);
    return imported.status();
  });
}

namespace {

// Reads a document, imports it, writes its results, reads the next: one document in flight, so a
// client sending faster than the directory takes them is held back by gRPC's flow control. Each
// import (Redis, the broker) runs on a worker; the reactor lives until Finish, so it may.
class ImportReactor : public grpc::ServerBidiReactor<v1::ImportOpenReferralRequest,
                                                     v1::ImportOpenReferralResponse> {
 public:
  ImportReactor(DirectoryService& service, const CallOffload& offload, absl::Time deadline,
                const absl::Status& allowed)
      : service_(service), offload_(offload), deadline_(deadline) {
    if (!allowed.ok()) {
      Finish(ToGrpcStatus(allowed));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client has sent everything
      Finish(grpc::Status::OK);
      return;
    }
    offload_.Start(
        deadline_,
        [this] {
          auto imported = service_.Import(request_);
          if (!imported.ok()) {
            Finish(ToGrpcStatus(imported.status()));
            return;
          }
          response_ = *std::move(imported);
          StartWrite(&response_);
        },
        [this](const absl::Status& why) { Finish(ToGrpcStatus(why)); });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  DirectoryService& service_;
  const CallOffload& offload_;
  const absl::Time deadline_;
  v1::ImportOpenReferralRequest request_;
  v1::ImportOpenReferralResponse response_;
};

}  // namespace

grpc::ServerBidiReactor<v1::ImportOpenReferralRequest, v1::ImportOpenReferralResponse>*
DirectoryService::ImportOpenReferralStream(grpc::CallbackServerContext* context) {
  return new ImportReactor(*this, offload_, absl::FromChrono(context->deadline()),
                           Allow(*context, DirectoryRpc::kImportOpenReferralStream).status());
}

grpc::ServerUnaryReactor* DirectoryService::UpsertLinkWorker(grpc::CallbackServerContext* context,
                                                             const v1::LinkWorker* request,
                                                             v1::LinkWorker* response) {
  auto caller = Allow(*context, DirectoryRpc::kUpsertLinkWorker);
  if (!caller.ok()) return Done(context, caller.status());
  auto violations = ValidateLinkWorker(*request);
  if (!violations.empty()) return Done(context, InvalidArgumentWithViolations(violations));
  return offload_.Answer(context, [this, request, response] {
    v1::Event event;
    *event.mutable_link_worker_upserted()->mutable_link_worker() = *request;
    absl::Status s = Publish("link-worker:" + request->id(), event);
    if (s.ok()) s = roster_.PutLinkWorker(*request);
    if (s.ok()) *response = *request;
    return s;
  });
}

grpc::ServerUnaryReactor* DirectoryService::UpsertNetwork(grpc::CallbackServerContext* context,
                                                          const v1::Network* request,
                                                          v1::Network* response) {
  auto caller = Allow(*context, DirectoryRpc::kUpsertNetwork);
  if (!caller.ok()) return Done(context, caller.status());
  auto violations = ValidateNetwork(*request);
  if (!violations.empty()) return Done(context, InvalidArgumentWithViolations(violations));
  return offload_.Answer(context, [this, request, response] {
    v1::Event event;
    *event.mutable_network_upserted()->mutable_network() = *request;
    absl::Status s = Publish("network:" + request->id(), event);
    if (s.ok()) s = roster_.PutNetwork(*request);
    if (s.ok()) *response = *request;
    return s;
  });
}

}  // namespace signpost::matching
