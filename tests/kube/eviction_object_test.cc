#include "kube/eviction_object.h"

#include <gtest/gtest.h>

#include "kube/eviction_request.h"

namespace topod::kube {
namespace {

using std::chrono::seconds;

const char* kEviction = R"({
  "apiVersion": "lifecycle.k8s.io/v1alpha1", "kind": "Eviction",
  "metadata": {"name": "pod-1-train", "namespace": "ml", "uid": "e-1", "resourceVersion": "42",
               "labels": {"topod.io/warn": "responder"}},
  "spec": {"target": {"pod": {"name": "train", "uid": "0b7c0a2e-0000-4000-8000-000000000001"}}},
  "status": {
    "targetResponders": [
      {"name": "topod.io/warn", "priority": 5000, "state": "Active"},
      {"name": "imperative-eviction.k8s.io/evictor", "priority": 100, "state": "Inactive"}],
    "responders": [{"name": "topod.io/warn", "startTime": "2026-12-06T22:00:00Z",
                    "heartbeatTime": "2026-12-06T22:00:30.123456Z", "message": "40%"}],
    "someFutureField": {"x": 1}
  }
})";

TEST(EvictionObject, ReadsWhatAResponderNeeds) {
  auto view = parseEvictionText(kEviction);
  ASSERT_TRUE(view) << view.error().toString();
  EXPECT_EQ(view->namespace_name, "ml");
  EXPECT_EQ(view->name, "pod-1-train");
  EXPECT_EQ(view->resource_version, "42");
  EXPECT_EQ(view->pod_name, "train");
  EXPECT_EQ(view->pod_uid, "0b7c0a2e-0000-4000-8000-000000000001");
  ASSERT_EQ(view->target_responders.size(), 2u);
  const TargetResponder* mine = view->targetResponder("topod.io/warn");
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(mine->priority, 5000);
  EXPECT_EQ(mine->state, ResponderState::Active);
  EXPECT_EQ(view->targetResponder("imperative-eviction.k8s.io/evictor")->state, ResponderState::Inactive);
  EXPECT_EQ(view->targetResponder("other.io/x"), nullptr);
  const ResponderStatus* status = view->responderStatus("topod.io/warn");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(formatWallTime(*status->start_time), "2026-12-06T22:00:00Z");
  EXPECT_EQ(formatWallTime(*status->heartbeat_time), "2026-12-06T22:00:30Z");
  EXPECT_FALSE(status->completion_time.has_value());
  EXPECT_EQ(status->message, "40%");
}

TEST(EvictionObject, WithoutStatusHasNoResponders) {
  auto view = parseEvictionText(
      R"({"metadata":{"name":"e","namespace":"n"},"spec":{"target":{"pod":{"name":"p","uid":"u"}}}})");
  ASSERT_TRUE(view) << view.error().toString();
  EXPECT_TRUE(view->target_responders.empty());
}

TEST(EvictionObject, AnUnknownStateIsUnknownNotAnError) {
  auto view = parseEvictionText(R"({"metadata":{"name":"e","namespace":"n"},"spec":{"target":{"pod":{"name":"p",
      "uid":"u"}}},"status":{"targetResponders":[{"name":"a.io/b","state":"Paused"}]}})");
  ASSERT_TRUE(view) << view.error().toString();
  EXPECT_EQ(view->target_responders[0].state, ResponderState::Unknown);
}

TEST(EvictionObject, RefusesWhatItCannotTrust) {
  struct Row {
    const char* name;
    const char* text;
    const char* field;
  };
  const Row rows[] = {
      {"not an object", "[]", "not a JSON object"},
      {"no name", R"({"metadata":{"namespace":"n"},"spec":{"target":{"pod":{"name":"p","uid":"u"}}}})",
       "metadata.name"},
      {"no pod uid", R"({"metadata":{"name":"e","namespace":"n"},"spec":{"target":{"pod":{"name":"p"}}}})",
       "spec.target.pod.uid"},
      {"uid a number", R"({"metadata":{"name":"e","namespace":"n"},"spec":{"target":{"pod":{"name":"p","uid":1}}}})",
       "spec.target.pod.uid"},
      {"bad time", R"({"metadata":{"name":"e","namespace":"n"},"spec":{"target":{"pod":{"name":"p","uid":"u"}}},
        "status":{"responders":[{"name":"a.io/b","heartbeatTime":"yesterday"}]}})",
       "heartbeatTime"},
      {"priority out of range", R"({"metadata":{"name":"e","namespace":"n"},"spec":{"target":{"pod":{"name":"p",
        "uid":"u"}}},"status":{"targetResponders":[{"name":"a.io/b","priority":-1}]}})",
       "priority"},
      {"responder twice", R"({"metadata":{"name":"e","namespace":"n"},"spec":{"target":{"pod":{"name":"p",
        "uid":"u"}}},"status":{"targetResponders":[{"name":"a.io/b"},{"name":"a.io/b"}]}})",
       "listed twice"},
      {"duplicate key", R"({"metadata":{"name":"e","name":"f","namespace":"n"}})", "twice"},
  };
  for (const Row& row : rows) {
    auto view = parseEvictionText(row.text);
    ASSERT_FALSE(view) << row.name;
    EXPECT_NE(view.error().message().find(row.field), std::string::npos) << row.name << ": " << view.error().message();
    EXPECT_EQ(view.error().code(), ErrorCode::InvalidArgument) << row.name;
  }
}

TEST(EvictionObject, RefusesMoreRespondersThanTheApiAllows) {
  nlohmann::json object = nlohmann::json::parse(
      R"({"metadata":{"name":"e","namespace":"n"},"spec":{"target":{"pod":{"name":"p","uid":"u"}}}})");
  object["status"]["targetResponders"] = nlohmann::json::array();
  for (int i = 0; i < 12; ++i) object["status"]["targetResponders"].push_back({{"name", "a.io/r" + std::to_string(i)}});
  EXPECT_FALSE(parseEviction(object));
}

TEST(EvictionObject, WallTimesRoundTripAndRefuseNonsense) {
  auto t = parseWallTime("2026-12-06T22:48:22Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(formatWallTime(*t), "2026-12-06T22:48:22Z");
  EXPECT_EQ(formatWallTime(*parseWallTime("2026-12-06T23:48:22+01:00")), "2026-12-06T22:48:22Z");
  EXPECT_EQ(formatWallTime(*parseWallTime("2024-02-29T00:00:00.5Z")), "2024-02-29T00:00:00Z");
  for (const char* bad :
       {"", "2026-12-06", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-12-06T24:00:00Z", "2026-12-06T22:48:22",
        "2026-12-06T22:48:22Zjunk", "2026-12-06T22:48:22.Z", "2026-12-06 22:48:22Z", "2026-12-06T22:48:22+0100"}) {
    EXPECT_FALSE(parseWallTime(bad)) << bad;
  }
}

TEST(EvictionObject, ResponderNames) {
  EXPECT_TRUE(validateResponderName("topod.io/warn"));
  EXPECT_TRUE(validateResponderName("example.com/Checkpoint_1"));
  for (const char* bad :
       {"warn", "/warn", "topod.io/", "Topod.io/warn", "-a.io/warn", "a..io/warn", "imperative-eviction.k8s.io/evictor",
        "k8s.io/x", "x.kubernetes.io/y", "topod.io/-x", "topod.io/a b"}) {
    EXPECT_FALSE(validateResponderName(bad)) << bad;
  }
}

TEST(EvictionObject, TheApplyBodySetsOnlyThisRespondersEntry) {
  ResponderReport report;
  report.heartbeat_time = *parseWallTime("2026-12-06T22:00:30Z");
  report.expected_completion_time = *parseWallTime("2026-12-06T22:10:00Z");
  report.message = "warned";
  auto body = responderStatusApply("ml", "pod-1-train", "topod.io/warn", report);
  EXPECT_EQ(body, nlohmann::json::parse(R"({"apiVersion":"lifecycle.k8s.io/v1alpha1","kind":"Eviction",
    "metadata":{"name":"pod-1-train","namespace":"ml"},
    "status":{"responders":[{"name":"topod.io/warn","heartbeatTime":"2026-12-06T22:00:30Z",
      "expectedCompletionTime":"2026-12-06T22:10:00Z","message":"warned"}]}})"));
  EXPECT_EQ(evictionStatusPath("ml", "pod-1-train"),
            "/apis/lifecycle.k8s.io/v1alpha1/namespaces/ml/evictions/pod-1-train/status");
}

TEST(EvictionObject, LongMessagesAreCutOnACharacterBoundary) {
  ResponderReport report;
  report.message = std::string(3999, 'a') + "\xC3\xA9" + "tail";  // 'é' straddles the limit
  auto body = responderStatusApply("n", "e", "a.io/b", report);
  const std::string message = body["status"]["responders"][0]["message"].get<std::string>();
  EXPECT_EQ(message, std::string(3999, 'a'));
}

// ---- EvictionRequest, as topod writes it when it is the requester -------------------------------

TEST(EvictionRequestObject, TheBodyNamesThePodIncarnationTheRequesterAndTheReason) {
  EvictionRequestSpec spec{.namespace_name = "ml",
                           .pod_name = "train-0",
                           .pod_uid = "6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b",
                           .requester = "topod.io/node-pressure",
                           .reason = "cpus_shrunk",
                           .message = "CPUs 2-3 are reserved now"};
  auto body = evictionRequestObject(spec);
  ASSERT_TRUE(body.has_value()) << body.error().toString();
  const std::string name = evictionRequestName(spec.requester, spec.pod_uid);
  EXPECT_EQ(*body, nlohmann::json::parse(R"({"apiVersion":"lifecycle.k8s.io/v1alpha1","kind":"EvictionRequest",
    "metadata":{"name":")" + name + R"(","namespace":"ml",
      "labels":{"app.kubernetes.io/managed-by":"topod"},
      "annotations":{"eviction.topod.io/reason":"cpus_shrunk","eviction.topod.io/message":"CPUs 2-3 are reserved now"}},
    "spec":{"target":{"pod":{"name":"train-0","uid":"6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b"}},
      "requester":"topod.io/node-pressure","intent":"Eviction"}})"));
  EXPECT_EQ(evictionRequestsCollection("ml"), "/apis/lifecycle.k8s.io/v1alpha1/namespaces/ml/evictionrequests");
}

TEST(EvictionRequestObject, TheNameIsStablePerRequesterAndPod) {
  const std::string uid = "6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b";
  EXPECT_EQ(evictionRequestName("topod.io/node-pressure", uid), evictionRequestName("topod.io/node-pressure", uid));
  EXPECT_NE(evictionRequestName("topod.io/node-pressure", uid), evictionRequestName("example.com/other", uid));
  // Pinned: a restarted topod of another build must find the object it made.
  EXPECT_EQ(evictionRequestName("a.io/b", uid).substr(0, 43), "topod-" + uid + "-");
  EXPECT_EQ(evictionRequestName("a.io/b", uid).size(), 51u);
}

TEST(EvictionRequestObject, BadFieldsAreRefusedNamingTheField) {
  const EvictionRequestSpec good{.namespace_name = "ml",
                                 .pod_name = "train",
                                 .pod_uid = "6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b",
                                 .requester = "topod.io/node-pressure",
                                 .reason = "cpus_shrunk",
                                 .message = ""};
  ASSERT_TRUE(evictionRequestObject(good).has_value());
  struct Row {
    const char* name;
    EvictionRequestSpec spec;
    const char* field;
  };
  auto with = [&](auto change) {
    EvictionRequestSpec spec = good;
    change(spec);
    return spec;
  };
  const Row rows[] = {
      {"namespace with a dot", with([](auto& s) { s.namespace_name = "a.b"; }), "metadata.namespace"},
      {"empty pod name", with([](auto& s) { s.pod_name = ""; }), "spec.target.pod.name"},
      {"upper-case pod name", with([](auto& s) { s.pod_name = "Train"; }), "spec.target.pod.name"},
      {"upper-case uid", with([](auto& s) { s.pod_uid = "6F1C2A3B-4D5E-4F60-8A9B-0C1D2E3F4A5B"; }),
       "spec.target.pod.uid"},
      {"uid that is a path", with([](auto& s) { s.pod_uid = "../../../../etc/passwd-aaaaaaaaaaaaaaa"; }),
       "spec.target.pod.uid"},
      {"reserved requester", with([](auto& s) { s.requester = "evictor.k8s.io/x"; }), "spec.requester"},
      {"requester without domain", with([](auto& s) { s.requester = "topod"; }), "spec.requester"},
      {"reason with spaces", with([](auto& s) { s.reason = "cpus shrunk"; }), "eviction.topod.io/reason"},
  };
  for (const Row& row : rows) {
    auto body = evictionRequestObject(row.spec);
    ASSERT_FALSE(body.has_value()) << row.name;
    EXPECT_NE(body.error().message().find(row.field), std::string::npos) << row.name << ": " << body.error().message();
  }
  EvictionRequestSpec long_message = good;
  long_message.message = std::string(2000, 'x');
  auto body = evictionRequestObject(long_message);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->at("metadata").at("annotations").at("eviction.topod.io/message").get<std::string>().size(),
            kMaxEvictionRequestMessage);
}

}  // namespace
}  // namespace topod::kube
