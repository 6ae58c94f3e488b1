// A Backend with canned answers, counting calls; an error set for a method is returned instead.
#pragma once

#include <atomic>
#include <optional>

#include "api/backend.h"

namespace topod::testing {

class FakeBackend final : public api::Backend {
 public:
  Result<api::StatusInfo> status() const override {
    ++calls;
    if (error) return *error;
    return status_info;
  }
  Result<std::vector<api::AllocationInfo>> allocations() const override {
    ++calls;
    if (error) return *error;
    return allocation_list;
  }
  Result<std::vector<api::ContainerExplanation>> explain(const api::ExplainQuery& query) const override {
    ++calls;
    last_query = query;
    if (error) return *error;
    return explanations;
  }
  Result<std::vector<api::ContainerExplanation>> whatIf(const policies::PodRequest& pod) const override {
    ++calls;
    last_what_if = pod;
    if (error) return *error;
    return explanations;
  }

  api::StatusInfo status_info;
  std::vector<api::AllocationInfo> allocation_list;
  std::vector<api::ContainerExplanation> explanations;
  std::optional<Error> error;
  mutable std::atomic<int> calls{0};
  mutable api::ExplainQuery last_query;
  mutable policies::PodRequest last_what_if;
};

}  // namespace topod::testing
