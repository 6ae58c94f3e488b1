#include "agent/eviction_responder.h"

#include <gtest/gtest.h>

namespace topod::agent {
namespace {

using std::chrono::seconds;
using Kind = ResponderAction::Kind;

constexpr const char* kMe = "topod.io/warn";
constexpr const char* kPodUid = "0b7c0a2e-0000-4000-8000-000000000001";

WallTime at(int s) {
  return *kube::parseWallTime("2026-12-06T22:00:00Z") + seconds(s);
}

ResponderSettings settings() {
  ResponderSettings out;
  out.responder_name = kMe;
  out.deadline = seconds(600);
  out.heartbeat_interval = seconds(180);
  return out;
}

LocalPod pod() {
  return {"ml", "train", kPodUid, {}};
}

kube::EvictionView eviction(kube::ResponderState state, const std::string& name = "pod-1-train") {
  kube::EvictionView view;
  view.namespace_name = "ml";
  view.name = name;
  view.pod_name = "train";
  view.pod_uid = kPodUid;
  view.target_responders = {{kMe, 5000, state},
                            {"imperative-eviction.k8s.io/evictor", 100, kube::ResponderState::Inactive}};
  return view;
}

// Applies every Report of `actions` as the server accepting it.
void accept(EvictionResponder& responder, const std::vector<ResponderAction>& actions) {
  for (const ResponderAction& action : actions) {
    if (action.kind == Kind::Report) responder.reported(action.warning.pod_uid, action.report);
  }
}

TEST(EvictionResponder, WarnsOnceOnActivationThenHeartbeatsAndCompletesOnDone) {
  EvictionResponder responder(settings());
  const LocalPod local = pod();
  EXPECT_TRUE(responder.observe(eviction(kube::ResponderState::Inactive), &local, at(0)).empty());
  auto actions = responder.observe(eviction(kube::ResponderState::Active), &local, at(1));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, Kind::Warn);
  EXPECT_EQ(actions[0].warning.mode, WarningMode::Signal);
  EXPECT_EQ(actions[0].warning.deadline, at(601));
  // The same object again (a resync, a MODIFIED event for our own write): no second warning.
  EXPECT_TRUE(responder.observe(eviction(kube::ResponderState::Active), &local, at(2)).empty());

  // First heartbeat at once, with the expected completion at the deadline.
  auto reports = responder.due(at(2));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].report.heartbeat_time, at(2));
  EXPECT_EQ(reports[0].report.expected_completion_time, at(601));
  EXPECT_FALSE(reports[0].report.completion_time.has_value());
  EXPECT_NE(reports[0].report.message.find("no progress reported yet"), std::string::npos);
  accept(responder, reports);
  EXPECT_TRUE(responder.due(at(3)).empty());

  // New progress: reported, but not within 20 s of the last heartbeat.
  responder.progress(kPodUid, {WorkloadState::Running, 40, "saving shard 3"}, at(5));
  EXPECT_TRUE(responder.due(at(21)).empty());
  reports = responder.due(at(22));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].report.message.find("progress 40%: saving shard 3"), std::string::npos)
      << reports[0].report.message;
  accept(responder, reports);

  // Nothing new: the next heartbeat comes after the interval.
  EXPECT_TRUE(responder.due(at(22 + 179)).empty());
  reports = responder.due(at(22 + 180));
  ASSERT_EQ(reports.size(), 1u);
  accept(responder, reports);

  // Done: completion at once (no 20 s gap for the last write), then nothing more.
  responder.progress(kPodUid, {WorkloadState::Done, 100, "checkpoint at step 9000"}, at(210));
  reports = responder.due(at(210));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].report.completion_time, at(210));
  EXPECT_EQ(reports[0].report.message, "workload done: checkpoint at step 9000");
  accept(responder, reports);
  EXPECT_TRUE(responder.due(at(400)).empty());
  EXPECT_EQ(responder.find(kPodUid)->phase, WarningPhase::Finished);
}

TEST(EvictionResponder, AFailedWriteIsDueAgain) {
  EvictionResponder responder(settings());
  const LocalPod local = pod();
  (void)responder.observe(eviction(kube::ResponderState::Active), &local, at(0));
  ASSERT_EQ(responder.due(at(0)).size(), 1u);  // not accepted: the API server is down
  ASSERT_EQ(responder.due(at(5)).size(), 1u);
  responder.progress(kPodUid, {WorkloadState::Failed, std::nullopt, "disk full"}, at(6));
  auto reports = responder.due(at(7));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].report.completion_time, at(7));
  EXPECT_EQ(reports[0].report.message, "workload failed: disk full");
  EXPECT_EQ(responder.due(at(8)).size(), 1u);  // still not accepted
  accept(responder, responder.due(at(9)));
  EXPECT_TRUE(responder.due(at(10)).empty());
}

TEST(EvictionResponder, TheDeadlineFinishesAWorkloadThatNeverAnswers) {
  ResponderSettings s = settings();
  s.deadline = seconds(60);
  EvictionResponder responder(s);
  const LocalPod local = pod();
  (void)responder.observe(eviction(kube::ResponderState::Active), &local, at(0));
  accept(responder, responder.due(at(0)));
  EXPECT_TRUE(responder.due(at(59)).empty());
  auto reports = responder.due(at(60));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].report.completion_time, at(60));
  EXPECT_EQ(reports[0].report.message, "deadline passed (60s) before the workload said done");
}

TEST(EvictionResponder, IgnoresPodsOfOtherNodesOtherIncarnationsAndRequestsThatDoNotListIt) {
  EvictionResponder responder(settings());
  EXPECT_TRUE(responder.observe(eviction(kube::ResponderState::Active), nullptr, at(0)).empty());
  LocalPod other = pod();
  other.uid = "0b7c0a2e-0000-4000-8000-000000000002";  // a re-created pod of the same name
  EXPECT_TRUE(responder.observe(eviction(kube::ResponderState::Active), &other, at(0)).empty());
  auto not_listed = eviction(kube::ResponderState::Active);
  not_listed.target_responders = {{"imperative-eviction.k8s.io/evictor", 100, kube::ResponderState::Active}};
  const LocalPod local = pod();
  EXPECT_TRUE(responder.observe(not_listed, &local, at(0)).empty());
  EXPECT_TRUE(responder.warnings().empty());
  EXPECT_TRUE(responder.due(at(1)).empty());
}

TEST(EvictionResponder, AWithdrawnRequestCancelsTheWarningAndANewOneWarnsAgain) {
  for (bool by_delete : {false, true}) {
    SCOPED_TRACE(by_delete ? "deleted" : "Canceled");
    EvictionResponder responder(settings());
    const LocalPod local = pod();
    (void)responder.observe(eviction(kube::ResponderState::Active), &local, at(0));
    accept(responder, responder.due(at(0)));
    auto actions = by_delete ? responder.removed("ml", "pod-1-train", at(30))
                             : responder.observe(eviction(kube::ResponderState::Canceled), &local, at(30));
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, Kind::Cancel);
    EXPECT_EQ(responder.find(kPodUid)->phase, WarningPhase::Cancelled);
    EXPECT_TRUE(responder.due(at(400)).empty());  // no heartbeats for a withdrawn warning
    actions = responder.observe(eviction(kube::ResponderState::Active, "pod-2-train"), &local, at(500));
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, Kind::Warn);
  }
}

TEST(EvictionResponder, ASecondRequestForTheSamePodDoesNotWarnTwice) {
  EvictionResponder responder(settings());
  const LocalPod local = pod();
  ASSERT_EQ(responder.observe(eviction(kube::ResponderState::Active), &local, at(0)).size(), 1u);
  accept(responder, responder.due(at(0)));
  // A second Eviction for the pod while warning: adopted, reported on, not warned.
  EXPECT_TRUE(responder.observe(eviction(kube::ResponderState::Active, "pod-2-train"), &local, at(10)).empty());
  auto reports = responder.due(at(10));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].warning.eviction_name, "pod-2-train");
  accept(responder, reports);
  responder.progress(kPodUid, {WorkloadState::Done, 100, ""}, at(40));
  accept(responder, responder.due(at(40)));
  // A third after it finished: completed at once, still no warning.
  EXPECT_TRUE(responder.observe(eviction(kube::ResponderState::Active, "pod-3-train"), &local, at(50)).empty());
  reports = responder.due(at(50));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].warning.eviction_name, "pod-3-train");
  EXPECT_TRUE(reports[0].report.completion_time.has_value());
}

TEST(EvictionResponder, RestoredWarningsAreNotWarnedAgain) {
  EvictionResponder before(settings());
  const LocalPod local = pod();
  (void)before.observe(eviction(kube::ResponderState::Active), &local, at(0));
  accept(before, before.due(at(0)));
  EvictionResponder after(settings());
  after.restore(before.warnings());
  EXPECT_TRUE(after.observe(eviction(kube::ResponderState::Active), &local, at(100)).empty());
  // It goes on heartbeating from where it was.
  EXPECT_TRUE(after.due(at(100)).empty());
  EXPECT_EQ(after.due(at(180)).size(), 1u);
}

TEST(EvictionResponder, InterruptedStopsAndCompletedIsRecorded) {
  EvictionResponder responder(settings());
  const LocalPod local = pod();
  (void)responder.observe(eviction(kube::ResponderState::Active), &local, at(0));
  accept(responder, responder.due(at(0)));
  EXPECT_TRUE(responder.observe(eviction(kube::ResponderState::Interrupted), &local, at(1300)).empty());
  EXPECT_EQ(responder.find(kPodUid)->phase, WarningPhase::Interrupted);
  EXPECT_TRUE(responder.due(at(1400)).empty());

  EvictionResponder other(settings());
  (void)other.observe(eviction(kube::ResponderState::Active), &local, at(0));
  EXPECT_TRUE(other.observe(eviction(kube::ResponderState::Completed), &local, at(5)).empty());
  EXPECT_EQ(other.find(kPodUid)->phase, WarningPhase::Finished);
  EXPECT_TRUE(other.due(at(6)).empty());
}

TEST(EvictionResponder, ModeNoneAcknowledgesAtOnce) {
  EvictionResponder responder(settings());
  LocalPod local = pod();
  local.annotations[kWarningModeAnnotation] = "none";
  EXPECT_TRUE(responder.observe(eviction(kube::ResponderState::Active), &local, at(0)).empty());
  auto reports = responder.due(at(0));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].report.completion_time.has_value());
  EXPECT_EQ(reports[0].report.message, "mode none: acknowledged without warning the workload");
}

TEST(EvictionResponder, AWarningThatCannotBeDeliveredFinishesAtOnce) {
  EvictionResponder responder(settings());
  const LocalPod local = pod();
  (void)responder.observe(eviction(kube::ResponderState::Active), &local, at(0));
  responder.warnFailed(kPodUid, "the container is gone", at(0));
  auto reports = responder.due(at(0));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].report.message, "could not warn the workload: the container is gone");
  EXPECT_TRUE(reports[0].report.completion_time.has_value());
}

TEST(EvictionResponder, PodAnnotationsChooseModeAndDeadlineWithinTheNodeLimit) {
  const ResponderSettings s = settings();
  LocalPod local = pod();
  local.annotations = {{kWarningModeAnnotation, "file"}, {kDeadlineAnnotation, "120"}};
  PodChoice choice = choosePodWarning(s, local);
  EXPECT_EQ(choice.mode, WarningMode::File);
  EXPECT_EQ(choice.deadline, seconds(120));
  EXPECT_EQ(choice.note, "");
  local.annotations = {{kWarningModeAnnotation, "shout"}, {kDeadlineAnnotation, "99999"}};
  choice = choosePodWarning(s, local);
  EXPECT_EQ(choice.mode, WarningMode::Signal);
  EXPECT_EQ(choice.deadline, s.max_deadline);
  EXPECT_NE(choice.note.find("shout"), std::string::npos);
  EXPECT_NE(choice.note.find("capped"), std::string::npos);
  local.annotations = {{kDeadlineAnnotation, "-5"}};
  choice = choosePodWarning(s, local);
  EXPECT_EQ(choice.deadline, s.deadline);
  EXPECT_NE(choice.note.find("not a positive number"), std::string::npos);
}

TEST(EvictionResponder, SettingsOutsideTheApiRulesAreRefused) {
  EXPECT_TRUE(validateResponderSettings(settings()));
  ResponderSettings s = settings();
  s.heartbeat_interval = seconds(10);
  EXPECT_FALSE(validateResponderSettings(s));
  s = settings();
  s.heartbeat_interval = seconds(1200);
  EXPECT_FALSE(validateResponderSettings(s));
  s = settings();
  s.responder_name = "imperative-eviction.k8s.io/evictor";
  EXPECT_FALSE(validateResponderSettings(s));
  s = settings();
  s.max_deadline = seconds(10);
  EXPECT_FALSE(validateResponderSettings(s));
}

TEST(EvictionResponder, FinishedRecordsGoWhenThePodIsGoneOrAfterTheRetention) {
  EvictionResponder responder(settings());
  const LocalPod local = pod();
  (void)responder.observe(eviction(kube::ResponderState::Active), &local, at(0));
  responder.progress(kPodUid, {WorkloadState::Done, 100, ""}, at(1));
  accept(responder, responder.due(at(1)));
  EXPECT_TRUE(responder.takeChanged());
  EXPECT_FALSE(responder.takeChanged());
  (void)responder.due(at(1) + kRetention);
  EXPECT_NE(responder.find(kPodUid), nullptr);
  (void)responder.due(at(2) + kRetention);
  EXPECT_EQ(responder.find(kPodUid), nullptr);
  EXPECT_TRUE(responder.takeChanged());
}

}  // namespace
}  // namespace topod::agent
