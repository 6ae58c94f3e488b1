#include "kube/eviction_object.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace topod::kube
